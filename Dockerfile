# The image of docker-compose.yml's api and worker services. torch comes from PyTorch's CPU wheel index first (no
# CUDA libraries in the image); the pinned versions are those of requirements.lock.
FROM python:3.11-slim
WORKDIR /app
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY pyproject.toml requirements.lock README.md ./
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0 \
 && grep -v '^torch==' requirements.lock > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt
COPY . .
RUN pip install --no-deps '.[postgres]'
ENV DOCGAP_DATA_DIR=/data
EXPOSE 8000
CMD ["docgap", "serve", "--host", "0.0.0.0", "--port", "8000"]
