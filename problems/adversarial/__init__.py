"""Max-type functions (Danskin, DDi), attack instances and optimal-transport measures."""
