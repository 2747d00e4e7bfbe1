# Image for the scaled set-up sketched in docker-compose.yml (not yet built in CI: no Docker engine there).
# Point pip at a CPU-only torch index through PIP_EXTRA_INDEX_URL if the image should not carry CUDA wheels.
FROM python:3.11-slim
WORKDIR /app
COPY . .
RUN pip install --no-cache-dir '.[postgres]'
ENV DOCGAP_DATA_DIR=/data
EXPOSE 8000
CMD ["docgap", "serve", "--host", "0.0.0.0", "--port", "8000"]
