// HTTP access of the chart page: conditional GETs (ETag / If-None-Match) and the server's one error shape
// {"error": {"code", "message", "details"}} (README, "Every error ... has one shape").

export class ApiProblem extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
  }
}

// One resource polled with If-None-Match: `get(url)` answers {changed, data, maxAge}. The browser cache is
// bypassed (cache: "no-store") so a 304 reaches this code instead of being replayed as a cached 200.
export class Conditional {
  constructor() {
    this.url = null;
    this.etag = null;
    this.data = null;
  }

  async get(url) {
    const headers = {Accept: "application/json"};
    if (url === this.url && this.etag) headers["If-None-Match"] = this.etag;
    const response = await fetch(url, {cache: "no-store", headers});
    const maxAge = parseMaxAge(response.headers.get("Cache-Control"));
    if (response.status === 304 && url === this.url) {
      return {changed: false, data: this.data, maxAge};
    }
    const body = await readJson(response);
    if (!response.ok) throw problemOf(response.status, body);
    this.url = url;
    this.etag = response.headers.get("ETag");
    this.data = body;
    return {changed: true, data: body, maxAge};
  }
}

export async function getJson(url) {
  const response = await fetch(url, {cache: "no-store", headers: {Accept: "application/json"}});
  const body = await readJson(response);
  if (!response.ok) throw problemOf(response.status, body);
  return body;
}

async function readJson(response) {
  try {
    return await response.json();
  } catch {
    return null;
  }
}

function problemOf(status, body) {
  const error = body && body.error;
  if (error) return new ApiProblem(status, error.code, error.message, error.details);
  return new ApiProblem(status, "http_" + status, `the server answered HTTP ${status}`);
}

function parseMaxAge(header) {
  const match = /max-age=(\d+)/.exec(header || "");
  return match ? Number(match[1]) : null;
}

export function query(path, params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") search.set(key, String(value));
  }
  return `${path}?${search}`;
}
