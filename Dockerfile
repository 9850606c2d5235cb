# Throughline in HTTP mode (`throughline serve`). Build: docker build -t throughline .
# Run: docker run -p 3000:3000 -e SLACK_BOT_TOKEN -e SLACK_SIGNING_SECRET -e DATABASE_URL throughline
# See deploy/README.md (compose.yaml runs PostgreSQL, the migration and two replicas behind a proxy).
ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
COPY storage ./storage
# a plain (not editable) install into its own virtual environment, copied whole into the image
RUN python -m venv /opt/throughline \
    && /opt/throughline/bin/pip install --no-cache-dir --disable-pip-version-check .

FROM python:${PYTHON_VERSION}-slim
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/throughline --create-home \
        --shell /usr/sbin/nologin throughline
COPY --from=build /opt/throughline /opt/throughline
ENV PATH=/opt/throughline/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    THROUGHLINE_PORT=3000
USER throughline
WORKDIR /var/lib/throughline
EXPOSE 3000
# the slim image has no curl: Python asks /healthz (200 when the database answers, else 503)
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('THROUGHLINE_PORT', '3000') + '/healthz', timeout=4)"
ENTRYPOINT ["throughline"]
CMD ["serve"]
