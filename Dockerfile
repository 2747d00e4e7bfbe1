# Image for the scaled set-up sketched in docker-compose.yml (not yet built in CI: no Docker engine there).
FROM python:3.11-slim
WORKDIR /app
COPY . .
# The CPU build of torch first, so the pinned torch==2.13.0 does not pull CUDA wheels.
RUN pip install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu \
 && pip install --no-cache-dir '.[postgres]'
ENV DOCGAP_DATA_DIR=/data
EXPOSE 8000
CMD ["docgap", "serve", "--host", "0.0.0.0", "--port", "8000"]
