// WebSocket connection to a kernel (JSON text frames), with reconnect + backoff.
// It asks for the server's batch subprotocol: each server frame is then a JSON array
// of messages (a cascade's hundreds of outputs arrive in a few frames, not one each).

const BATCH_SUBPROTOCOL = "batch.reactive-kernel.v1";

export function newId() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export class KernelConnection {
  /**
   * handlers: {onMessage(msg), onState(state, detail)}; state is "connecting" |
   * "connected" | "disconnected".
   */
  constructor(kernelId, token, handlers) {
    this.kernelId = kernelId;
    this.token = token;
    this.handlers = handlers;
    this.session = newId();
    this.ws = null;
    this.attempt = 0;
    this.closed = false;
    this.timer = null;
    this.waiters = new Map();
  }

  get open() { return this.ws && this.ws.readyState === WebSocket.OPEN; }

  connect() {
    if (this.closed) return;
    clearTimeout(this.timer);
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const url = `${proto}//${location.host}/api/kernels/${encodeURIComponent(this.kernelId)}`
      + `/channels?session_id=${this.session}&token=${encodeURIComponent(this.token)}`;
    this.handlers.onState("connecting", { attempt: this.attempt });
    let ws;
    try {
      ws = new WebSocket(url, [BATCH_SUBPROTOCOL]);
    } catch (error) {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.handlers.onState("connected", {});
    };
    ws.onmessage = (event) => {
      if (typeof event.data !== "string") return;
      let data;
      try { data = JSON.parse(event.data); } catch { return; }
      if (!Array.isArray(data)) { this.dispatch(data); return; }
      for (const msg of data) this.dispatch(msg);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      for (const resolve of this.waiters.values()) resolve(null);
      this.waiters.clear();
      this.scheduleReconnect();
    };
  }

  dispatch(msg) {
    if (!msg || typeof msg !== "object") return;
    const parent = msg.parent_header && msg.parent_header.msg_id;
    const type = (msg.header && msg.header.msg_type) || msg.msg_type;
    if (parent && this.waiters.has(parent) && type && type.endsWith("_reply")) {
      const resolve = this.waiters.get(parent);
      this.waiters.delete(parent);
      resolve(msg);
    }
    try {
      this.handlers.onMessage(msg);
    } catch (error) {
      // Reported as uncaught (the page's error handlers and tests see it), but the
      // rest of the batch is still handled.
      setTimeout(() => { throw error; });
    }
  }

  scheduleReconnect() {
    if (this.closed) return;
    const delay = Math.min(15000, 500 * 2 ** this.attempt) * (0.8 + Math.random() * 0.4);
    this.attempt += 1;
    this.handlers.onState("disconnected", { retryIn: delay, attempt: this.attempt });
    this.timer = setTimeout(() => this.connect(), delay);
  }

  reconnectNow() {
    this.attempt = 0;
    if (this.ws) { try { this.ws.close(); } catch { /* ignore */ } }
    this.ws = null;
    this.connect();
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close();
  }

  /** Send a message; returns its msg_id (or null when not connected). */
  send(channel, msgType, content, metadata = {}, buffers = []) {
    if (!this.open) return null;
    const msgId = newId();
    this.ws.send(JSON.stringify({
      channel,
      header: { msg_id: msgId, msg_type: msgType, session: this.session, username: "web",
        version: "5.4", date: new Date().toISOString() },
      parent_header: {},
      metadata,
      content,
      buffers,  // base64 strings
    }));
    return msgId;
  }

  /** Answer a kernel's request (an input_reply to its input_request); false if not
   * connected. */
  reply(channel, msgType, content, parentHeader) {
    if (!this.open) return false;
    this.ws.send(JSON.stringify({
      channel,
      header: { msg_id: newId(), msg_type: msgType, session: this.session, username: "web",
        version: "5.4", date: new Date().toISOString() },
      parent_header: parentHeader,
      metadata: {},
      content,
      buffers: [],
    }));
    return true;
  }

  /** Send a shell request and resolve with its reply (null if the socket closes). */
  request(msgType, content, metadata = {}, timeoutMs = 60000) {
    return this.awaitReply(this.send("shell", msgType, content, metadata), timeoutMs);
  }

  /** The reply to the request ``msgId`` sent (null if none was, if the socket closes,
   * or after ``timeoutMs``). */
  awaitReply(msgId, timeoutMs = 60000) {
    if (!msgId) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.waiters.set(msgId, resolve);
      setTimeout(() => {
        if (this.waiters.has(msgId)) { this.waiters.delete(msgId); resolve(null); }
      }, timeoutMs);
    });
  }

  execute(code, metadata = {}, silent = false) {
    return this.send("shell", "execute_request", {
      code, silent, store_history: !silent, user_expressions: {}, allow_stdin: !silent,
      stop_on_error: true,
    }, metadata);
  }
}
