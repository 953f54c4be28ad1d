# The Heimdall pipeline image (used by docker-compose.yml).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PIP_NO_CACHE_DIR=1 DBT_SEND_ANONYMOUS_USAGE_STATS=false
WORKDIR /app
COPY pyproject.toml README.md ./
COPY warehouse ./warehouse
COPY generator ./generator
COPY connectors ./connectors
COPY insights ./insights
COPY heimdall ./heimdall
COPY dbt ./dbt
RUN pip install -e .
ENTRYPOINT []
CMD ["heimdall", "--help"]
