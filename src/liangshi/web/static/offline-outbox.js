/* liangshi offline machinery shared by the phone apps (离线采集, 离线抽查): the downloaded work and the outbox in
 * IndexedDB, items with a UUID made on the phone, the sync of the waiting items (one answer per item), the
 * online/offline badge. Each app keeps its own views; this file is the part they have in common. */
"use strict";

window.LiangshiOffline = (function () {
  function esc(text) {
    return String(text == null ? "" : text).replace(/[&<>"']/g, (c) => ({
      "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
    }[c]));
  }

  function uuid4() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  // One database per app and user on a shared phone: a "work" store (key "current") and the outbox by UUID.
  function store(name) {
    const ready = new Promise((resolve, reject) => {
      const req = indexedDB.open(name, 1);
      req.onupgradeneeded = () => {
        const db = req.result;
        db.createObjectStore("work");
        const outbox = db.createObjectStore("outbox", { keyPath: "uuid" });
        outbox.createIndex("created", "created_at");
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    function tx(name, mode, fn) {
      return ready.then((db) => new Promise((resolve, reject) => {
        const t = db.transaction(name, mode);
        const s = t.objectStore(name);
        let result;
        const r = fn(s);
        if (r) r.onsuccess = () => { result = r.result; };
        t.oncomplete = () => resolve(result);
        t.onerror = () => reject(t.error);
        t.onabort = () => reject(t.error);
      }));
    }
    return {
      getWork: () => tx("work", "readonly", (s) => s.get("current")),
      putWork: (work) => tx("work", "readwrite", (s) => s.put(work, "current")),
      allItems: () => tx("outbox", "readonly", (s) => s.index("created").getAll()),
      getItem: (uuid) => tx("outbox", "readonly", (s) => s.get(uuid)),
      putItem: (item) => tx("outbox", "readwrite", (s) => s.put(item)),
    };
  }

  // POST the payloads to the app's sync URL: the server's answer ({items, counts}), or null without a network
  // (everything then stays waiting in the outbox).
  async function post(url, csrf, payloads) {
    try {
      const response = await fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify({ items: payloads }),
      });
      if (!response.ok) throw new Error(String(response.status));
      return await response.json();
    } catch (err) {
      return null;
    }
  }

  // At most one sync at a time: a second call waits for the running one.
  function serial(fn) {
    let running = null;
    return () => {
      if (!running) running = fn().finally(() => { running = null; });
      return running;
    };
  }

  function showNet(texts) {
    const online = navigator.onLine;
    const net = document.getElementById("net");
    net.textContent = online ? texts.online : texts.offline;
    net.className = "badge " + (online ? "ok" : "warn");
    net.dataset.online = String(online);
  }

  function csrfToken() {
    return (JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"]) || "";
  }

  function registerWorker() {
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.register("/web/collect/sw.js", { scope: "/web/collect/" }).catch(() => null);
    }
  }

  return { esc, uuid4, store, post, serial, showNet, csrfToken, registerWorker };
})();
