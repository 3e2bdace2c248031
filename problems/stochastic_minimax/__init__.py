"""Stochastic min-max problems: noisy games and their exact laws, mixed-strategy games, the GAN mixture."""
