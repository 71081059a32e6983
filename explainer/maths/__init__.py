"""NumPy maths of the linear model: its exact losses and their gradients on logits, and
measurements on logits and weights. The same over every image is the workers' (worker/images.py)."""
