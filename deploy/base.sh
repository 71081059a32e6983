#!/bin/sh
# A stand-in for the Dockerfile's base image (python:3.11-slim), built from Debian's own packages,
# for a machine that reaches Debian's mirror but not Docker Hub (this project's CI machines):
#   sudo sh deploy/base.sh [TAG]     then     podman build --build-arg BASE=TAG ...
# It is Debian bookworm's Python 3.11 in a virtual environment on PATH, as `python` and `pip`, so
# the Dockerfile's steps run unchanged. The image trusts the CA certificates of the machine that
# builds it (a proxy between the machine and PyPI may sign with its own).
set -eu
TAG="${1:-localhost/python-debian:3.11}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
ROOTFS="$(mktemp -d)"
trap 'rm -rf "$ROOTFS"' EXIT

debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$ROOTFS" "$MIRROR" > /dev/null
chroot "$ROOTFS" python3 -m venv /opt/venv
chroot "$ROOTFS" apt-get clean
rm -rf "$ROOTFS"/var/lib/apt/lists/*
cp /etc/ssl/certs/ca-certificates.crt "$ROOTFS"/etc/ssl/certs/ca-certificates.crt
tar -C "$ROOTFS" -c . | podman import --quiet \
  --change 'ENV PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' - "$TAG" > /dev/null
echo "$TAG"
