# Condenser service image: CPU torch by default; `--build-arg TORCH_INDEX=https://download.pytorch.org/whl/cu124`
# (and the compose `gpu` profile) for CUDA. The default method's model loads at start-up (CONDENSER_PRELOAD=true),
# so the first request does not pay for it; `docker run -e CONDENSER_PRELOAD=false` starts faster instead.
FROM python:3.11-slim

ARG TORCH_VERSION=2.13.0
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false \
    CONDENSER_PRELOAD=true

WORKDIR /app
RUN pip install --index-url "${TORCH_INDEX}" "torch==${TORCH_VERSION}"
COPY pyproject.toml README.md ./
COPY compressor compressor
COPY retriever retriever
COPY pipelines pipelines
COPY api api
COPY evals evals
COPY condenser condenser
RUN pip install ".[models,api,fast,otel]"

RUN useradd --create-home --uid 10001 condenser
USER condenser
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"
CMD ["condenser", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
