"""The worker side: everything that imports TensorFlow, Keras, JAX or numba, or computes over all
images. Only worker processes import it; the server reaches it through the training service, by
name, in one place (`jobs.InWorker`)."""
