"""NumPy maths of the linear model: its exact losses and gradients, measurements on logits and
weights, and SGD replayed as trained."""
