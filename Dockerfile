# The shared demo in one image: MNIST and a warm cache baked in, served on $PORT.
#   docker build -t keras-lr-explainer .                                  (Keras downloads MNIST)
#   docker build --build-arg MNIST_NPZ=mnist.npz -t keras-lr-explainer .   (a copy in the build context)
#   docker run -p 8501:8501 keras-lr-explainer
# BASE: any image with Python 3.11 as `python` and `pip` (deploy/base.sh builds one from Debian's
# packages where Docker Hub is out of reach). WARM_ARGS: what the build computes (deploy/build.sh).
ARG BASE=python:3.11-slim
FROM ${BASE}

RUN useradd --create-home --uid 1000 app
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY --chown=app . .

USER app
ARG MNIST_NPZ=""
ARG WARM_ARGS=--all
# a build argument names a copy in the build context; without one, Keras downloads it
ENV MNIST_NPZ=${MNIST_NPZ:+/app/${MNIST_NPZ}} \
    EXPLAINER_CACHE_DIR=/home/app/cache \
    PORT=8501
RUN sh deploy/build.sh

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
  CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/_stcore/health', timeout=4)"
CMD ["sh", "deploy/serve.sh"]
