# One image for every diego process; the service's command picks it: `bbs`, `receptor`, `cell` (see
# docker-compose.yml). etcd runs from its own upstream image.
FROM node:20-bookworm-slim
WORKDIR /app
COPY . .
RUN npm ci --no-audit --no-fund && npm run build
USER node
ENTRYPOINT ["node", "packages/cli/dist/main.js"]
CMD ["--help"]
