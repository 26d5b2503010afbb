// A small MCP server (stdio, newline-delimited JSON-RPC, no dependencies) that lets tests observe what the gateway
// does to a server: which requests it cancelled, what environment it was given, how it reacts to a changing catalog.
import { createInterface } from "node:readline";

const tools = new Map([
  ["echo", { description: "Returns the text it is given.", required: ["text"], properties: { text: { type: "string" } } }],
  ["sleep", { description: "Answers after `ms` milliseconds, unless cancelled first.", required: ["ms"], properties: { ms: { type: "number" } } }],
  ["pending", { description: "How many sleep calls are in progress.", properties: {} }],
  ["cancellations", { description: "The ids of the requests this server was told to cancel.", properties: {} }],
  ["environment", { description: "This server's environment variables, NAME=value per line.", properties: {} }],
  ["big", { description: "Answers with `bytes` bytes of text, written as the TypeScript SDK writes answers (id last).", required: ["bytes"], properties: { bytes: { type: "number" } } }],
  ["repo_info", { description: "Says which repository it was asked about.", required: ["owner", "repo"], properties: { owner: { type: "string" }, repo: { type: "string" } } }],
  ["grow", { description: "Adds a tool named `name` and announces the change.", required: ["name"], properties: { name: { type: "string" } } }],
]);
const cancelled = [];
const pending = new Map();

const send = (message) => process.stdout.write(JSON.stringify({ jsonrpc: "2.0", ...message }) + "\n");
const text = (id, value) => send({ id, result: { content: [{ type: "text", text: value }] } });
const invalid = (id, message) => send({ id, error: { code: -32602, message } });

function call(id, name, args) {
  const tool = tools.get(name);
  if (!tool) return send({ id, error: { code: -32602, message: `Unknown tool: ${name}` } });
  for (const key of tool.required ?? [])
    if (typeof args?.[key] !== tool.properties[key].type) return invalid(id, `'${key}' must be a ${tool.properties[key].type}`);
  switch (name) {
    case "echo": return text(id, args.text);
    case "sleep": return pending.set(id, setTimeout(() => { pending.delete(id); text(id, `slept ${args.ms} ms`); }, args.ms));
    case "pending": return text(id, String(pending.size));
    case "cancellations": return text(id, JSON.stringify(cancelled));
    case "environment": return text(id, Object.entries(process.env).map(([k, v]) => `${k}=${v}`).join("\n"));
    case "big": return big(id, args.bytes);
    case "repo_info": return text(id, `${args.owner}/${args.repo}`);
    case "grow":
      tools.set(args.name, { description: "Added at run time.", properties: {} });
      text(id, `added ${args.name}`);
      return send({ method: "notifications/tools/list_changed" });
    default: return text(id, `called ${name}`);
  }
}

// Streamed with backpressure: the answer is never held whole, however large.
async function big(id, bytes) {
  const write = (text) => process.stdout.write(text) ? Promise.resolve() : new Promise((done) => process.stdout.once("drain", done));
  const chunk = "x".repeat(64 * 1024);
  await write('{"result":{"content":[{"type":"text","text":"BEGIN ');
  for (let left = bytes; left > 0; left -= chunk.length) await write(left >= chunk.length ? chunk : chunk.slice(0, left));
  await write(` END"}],"isError":false},"jsonrpc":"2.0","id":${JSON.stringify(id)}}\n`);
}

createInterface({ input: process.stdin }).on("line", (line) => {
  let message;
  try { message = JSON.parse(line); } catch { return send({ id: null, error: { code: -32700, message: "Parse error" } }); }
  const { id, method, params } = message;
  switch (method) {
    case "initialize":
      // PROBE_START_DELAY_MS: a server slow to start (the workspace it is part of is slow to open).
      return setTimeout(() => send({ id, result: {
        protocolVersion: params?.protocolVersion ?? "2025-06-18",
        capabilities: { tools: { listChanged: true } },
        serverInfo: { name: "orchestrator-test-probe", version: "1.0.0" },
      } }), Number(process.env.PROBE_START_DELAY_MS ?? 0));
    case "tools/list":
      return send({ id, result: { tools: [...tools].map(([name, t]) => ({
        name, description: t.description, inputSchema: { type: "object", properties: t.properties, required: t.required ?? [] },
      })) } });
    case "tools/call": return call(id, params?.name, params?.arguments);
    case "notifications/cancelled": {
      cancelled.push(params?.requestId);
      const timer = pending.get(params?.requestId);
      if (timer) { clearTimeout(timer); pending.delete(params.requestId); }
      return;
    }
    case "ping": return send({ id, result: {} });
    default:
      if (id !== undefined) send({ id, error: { code: -32601, message: `Method not found: ${method}` } });
  }
});
