"""The worker side's entry points, each named by its module and its function (jobs.InWorker): the
one module outside explainer/worker/ that names them, so that the processes handing them to the
workers (the server, the command line) never import what they need."""

from explainer.jobs import InWorker

START = InWorker("process", "start")  # a local pool's worker's start: (backend, parent pid, shared count)
TRAIN = InWorker("runs", "train_job")  # a Job's run trained into its store
DERIVE = InWorker("compute", "derive_job")  # a DerivedJob's result computed into its store
DOWNLOAD_MNIST = InWorker("device", "download_mnist")  # Keras' own download into its cache
