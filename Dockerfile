# The Heimdall pipeline image (used by docker-compose.yml).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PIP_NO_CACHE_DIR=1 DBT_SEND_ANONYMOUS_USAGE_STATS=false
WORKDIR /app
# Pango and a font for the weekly report's PDF (WeasyPrint; `heimdall report`).
RUN apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY warehouse ./warehouse
COPY generator ./generator
COPY connectors ./connectors
COPY insights ./insights
COPY heimdall ./heimdall
COPY streamlit_apps ./streamlit_apps
COPY reports ./reports
COPY dbt ./dbt
RUN pip install -e .
ENTRYPOINT []
CMD ["heimdall", "--help"]
