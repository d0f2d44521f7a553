"""Alert-quality analytics (the noise budget) and the noisy-rules page."""
