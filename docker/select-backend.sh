#!/usr/bin/env bash
# Prints the GoMLX backend that the notebooks should use in this container, and why on stderr:
#   $GOMLX_BACKEND when set;
#   xla:cuda when a GPU is visible (nvidia-smi -L lists one) and the image has the CUDA PJRT plugin
#            (the gpu variant: jax-cuda13-pjrt in /opt/iagen/.venv);
#   xla:cpu  otherwise, when the XLA CPU plugin is installed (scripts/install-xla-cpu.sh's marker);
#   go       the pure-Go backend otherwise.
# A GPU that is visible in an image without the CUDA plugin is reported, and the CPU is used.
#
# For tests: IAGEN_NVIDIA_SMI (default nvidia-smi) is the GPU probe, IAGEN_VENV (default
# /opt/iagen/.venv) the environment holding the plugins.
set -euo pipefail

say() { echo "select-backend: $*" >&2; }

if [[ -n ${GOMLX_BACKEND:-} ]]; then
	say "GOMLX_BACKEND is set"
	echo "$GOMLX_BACKEND"
	exit 0
fi

venv=${IAGEN_VENV:-/opt/iagen/.venv}
smi=${IAGEN_NVIDIA_SMI:-nvidia-smi}

gpus=0
if [[ ${NVIDIA_VISIBLE_DEVICES:-} != void && ${NVIDIA_VISIBLE_DEVICES:-} != none ]] && command -v "$smi" >/dev/null 2>&1; then
	gpus=$("$smi" -L 2>/dev/null | grep -c '^GPU [0-9]' || true)
fi

cuda=""
for so in "$venv"/lib/python3*/site-packages/jax_plugins/xla_cuda*/xla_cuda_plugin.so; do
	[[ -f $so ]] && cuda=$so && break
done

if ((gpus > 0)); then
	if [[ -n $cuda ]]; then
		say "$gpus GPU(s) visible, CUDA plugin $cuda"
		echo "xla:cuda"
		exit 0
	fi
	say "$gpus GPU(s) visible, but this image has no CUDA PJRT plugin (build it with VARIANT=gpu): using the CPU"
fi

if [[ -s $venv/.iagen-xla-cpu ]]; then
	say "no GPU in use: XLA's CPU plugin"
	echo "xla:cpu"
else
	say "no GPU in use and no XLA CPU plugin: the pure-Go backend"
	echo "go"
fi
