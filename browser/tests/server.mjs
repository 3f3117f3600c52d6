// Starts the OpenStudio binary on a fresh SQLite database in a temporary folder, and
// stops it afterwards.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..", "..");
export const binary = process.env.OPENSTUDIO_BIN || path.join(root, "target", "debug", "openstudio");

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export async function startServer() {
  const dir = mkdtempSync(path.join(tmpdir(), "openstudio-browser-"));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    DATA_DIR: dir,
    PORT: String(port),
    BIND: "127.0.0.1",
    PUBLIC_URL: base,
    RUST_LOG: "warn",
    // The story registers many members from one address in a few seconds.
    AUTH_REQUESTS_PER_IP_PER_MINUTE: "1000",
  };
  delete env.DATABASE_URL;
  const admin = { ...env, OPENSTUDIO_ADMIN_PASSWORD: "staff-lantern-orchard-31" };
  execFileSync(binary, ["create-admin", "--email", "staff@example.com", "--username", "staff"], { env: admin, stdio: "pipe" });
  const child = spawn(binary, [], { env, stdio: ["ignore", "inherit", "inherit"] });
  for (let i = 0; i < 100; i++) {
    try {
      const res = await fetch(`${base}/health`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    staff: { email: "staff@example.com", password: "staff-lantern-orchard-31" },
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
