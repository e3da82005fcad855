/* liangshi offline collection (离线采集): the collector's work and outbox in IndexedDB, synced when online.
 *
 * The work (buildings, dwellings with their versions, the persons living there, masked) is downloaded from
 * /web/collect/work.json. Every visit and person form becomes an outbox item with a UUID made on the phone; the
 * item stays in the outbox whatever happens (reload, refused sync, conflict) until the server stored it, and a
 * stored item stays visible as sent. Sync posts the waiting items to /web/collect/sync; the server answers per
 * item: stored / replayed (sent), refused (with its reason), conflict (with the server's version of the dwelling).
 * A move, document, household member or birth typed at a dwelling is an outbox item too (#/x/DWELLING/KIND/ID),
 * proposed for review on sync as the online proposal routes do.
 * Plain JS, no library; hash routes: #/ area, #/b/ID building, #/d/ID visit, #/p/ID person form, #/outbox. */
"use strict";

(function () {
  const config = JSON.parse(document.getElementById("app-config").textContent);
  const T = config.texts;
  const L = config.labels;
  const view = document.getElementById("view");
  const statusLine = document.getElementById("status");
  const O = window.LiangshiOffline; // the machinery shared with the inspection app (offline-outbox.js)
  const csrf = O.csrfToken();
  const DB_NAME = "liangshi-collect-" + config.user; // one database per collector on a shared phone

  O.registerWorker();

  // ---------------------------------------------------------------- IndexedDB
  const { getWork, putWork, allItems, getItem, putItem } = O.store(DB_NAME);

  // ---------------------------------------------------------------- helpers
  const esc = O.esc;
  const uuid4 = O.uuid4;
  function options(table, selected, blank) {
    const rows = Object.entries(table || {}).map(([code, text]) =>
      `<option value="${esc(code)}"${code === selected ? " selected" : ""}>${esc(text)}</option>`);
    return (blank ? `<option value="">—</option>` : "") + rows.join("");
  }
  function today() {
    const d = new Date();
    return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
  }
  function say(text) { statusLine.textContent = text; }
  function dwellingsOf(work) {
    const map = new Map();
    (work ? work.buildings : []).forEach((b) => b.dwellings.forEach((d) => map.set(d.dwelling_id, { ...d, building: b })));
    return map;
  }

  // GB 11643 check character, birth date and sex of an 18-digit resident ID number (offline, as the server does).
  function checkId(number) {
    const n = (number || "").trim().toUpperCase();
    if (!/^\d{17}[\dX]$/.test(n)) return null;
    const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const sum = w.reduce((acc, wi, i) => acc + wi * Number(n[i]), 0);
    const check = "10X98765432"[sum % 11];
    return {
      valid: check === n[17],
      region: n.slice(0, 6),
      birth: `${n.slice(6, 10)}-${n.slice(10, 12)}-${n.slice(12, 14)}`,
      sex: Number(n[16]) % 2 === 1 ? "1" : "2",
    };
  }

  // ---------------------------------------------------------------- views
  async function refreshBar() {
    O.showNet(T);
    const items = await allItems();
    document.getElementById("outbox-count").textContent = String(items.filter((i) => i.state !== "sent").length);
  }

  async function showArea() {
    const work = await getWork();
    if (!work) { view.innerHTML = `<p class="muted" data-testid="no-work">${esc(T.no_work)}</p>`; return; }
    const items = await allItems();
    const touched = new Set(items.map((i) => i.dwelling_id));
    view.innerHTML = `<p class="muted small">${esc(T.downloaded)}: ${esc(work.downloaded_at.slice(0, 16).replace("T", " "))}</p>` +
      `<section class="card"><h2>${esc(T.my_area)}</h2><ul class="list">` +
      work.buildings.map((b) => {
        const done = b.dwellings.filter((d) => touched.has(d.dwelling_id) || d.last_outcome).length;
        return `<li><a href="#/b/${b.building_id}" data-testid="app-building-${b.building_id}"><span>${esc(b.street || "")} ${esc(b.number || "")} ${esc(b.label)}</span>` +
          `<span class="muted small">${done} / ${b.dwellings.length}</span></a></li>`;
      }).join("") + `</ul></section>`;
  }

  async function showBuilding(id) {
    const work = await getWork();
    const b = work && work.buildings.find((x) => x.building_id === id);
    if (!b) return showArea();
    const items = await allItems();
    view.innerHTML = `<p><a href="#/">← ${esc(T.my_area)}</a></p><h2>${esc(b.label)}</h2><ul class="list">` +
      b.dwellings.map((d) => {
        const mine = items.filter((i) => i.dwelling_id === d.dwelling_id && i.kind === "visit").pop();
        const outcome = mine ? mine.visit.outcome : d.last_outcome;
        return `<li><a href="#/d/${d.dwelling_id}" data-testid="app-dwelling-${esc(d.room)}"><span>${esc(T.room)} ${esc(d.room)} <span class="muted small">· ${d.occupants.length}</span></span>` +
          `<span class="badge">${esc(outcome ? L.outcomes[outcome] : L.dwelling_status[d.status] || d.status)}</span></a></li>`;
      }).join("") + `</ul>`;
  }

  async function showVisit(id, existing) {
    const work = await getWork();
    const d = dwellingsOf(work).get(id);
    if (!d) return showArea();
    const v = existing ? existing.visit : { outcome: "occupied", confirmed_person_ids: d.occupants.map((o) => o.person_id) };
    view.innerHTML = `<p><a href="#/b/${d.building.building_id}">← ${esc(d.building.label)}</a></p>` +
      `<h2>${esc(T.visit)} · ${esc(T.room)} ${esc(d.room)}</h2>` +
      `<form class="card stack" id="app-visit"><fieldset class="choices"><legend>${esc(T.occupancy)}</legend>` +
      Object.entries(L.outcomes).map(([code, text]) =>
        `<label><input type="radio" name="outcome" value="${code}"${code === v.outcome ? " checked" : ""}> ${esc(text)}</label>`).join("") +
      `</fieldset><h3>${esc(T.occupants)}</h3><ul class="list">` +
      d.occupants.map((o) => `<li><label><input type="checkbox" name="confirmed" value="${o.person_id}" style="width:auto;min-height:0"` +
        `${(v.confirmed_person_ids || []).includes(o.person_id) ? " checked" : ""}> <strong>${esc(o.name)}</strong> ` +
        `<span class="muted small">${esc(L.categories[o.category] || o.category)} · ${esc(o.documents.join(", "))}</span></label>` +
        `<span class="small"><a href="#/x/${d.dwelling_id}/move/${o.residence_id}" data-testid="app-move">${esc(T.k_move)}</a> · ` +
        `<a href="#/x/${d.dwelling_id}/document/${o.person_id}" data-testid="app-document">${esc(T.k_document)}</a></span></li>`).join("") +
      `</ul>` +
      (d.households || []).map((h) => `<p class="small">${esc(T.household)} ${esc(h.head || "—")}: ` +
        `<a href="#/x/${d.dwelling_id}/member/${h.household_id}" data-testid="app-member">${esc(T.k_member)}</a> · ` +
        `<a href="#/x/${d.dwelling_id}/birth/${h.household_id}" data-testid="app-birth">${esc(T.k_birth)}</a></p>`).join("") +
      // The size each household living here declares (住户不漏人), checked against the persons recorded.
      ((d.households || []).length ? `<h3>${esc(T.household_size)}</h3>` + d.households.map((h) => {
        const said = (v.household_sizes || []).find((x) => x.household_id === h.household_id);
        return `<label data-testid="app-household-size">${esc(h.head || "—")} · ${h.members}` +
          `<input name="size_${h.household_id}" type="number" inputmode="numeric" min="1" max="99" value="${said ? said.members : ""}"></label>`;
      }).join("") : "") +
      `<p><a class="button" href="#/p/${d.dwelling_id}">＋ ${esc(T.add_person)}</a></p>` +
      `<label>${esc(T.note)}<textarea name="note" rows="2" maxlength="500">${esc(v.note || "")}</textarea></label>` +
      `<label class="small"><input type="checkbox" name="use_position" style="width:auto;min-height:0"> ${esc(T.use_position)}</label>` +
      `<button type="submit" class="primary">${esc(T.save_visit)}</button></form>`;
    const started = existing ? existing.visit.started_at : new Date().toISOString();
    const form = document.getElementById("app-visit");
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const data = new FormData(form);
      const outcome = data.get("outcome");
      const visit = {
        outcome,
        note: (data.get("note") || "").trim() || null,
        confirmed_person_ids: outcome === "occupied" ? data.getAll("confirmed").map(Number) : [],
        started_at: started,
        ended_at: new Date().toISOString(),
        device: navigator.userAgent.slice(0, 300),
        household_sizes: (d.households || [])
          .map((h) => ({ household_id: h.household_id, members: Number(data.get(`size_${h.household_id}`) || 0) }))
          .filter((x) => x.members > 0),
      };
      if (data.get("use_position")) Object.assign(visit, await position());
      await save(existing, { kind: "visit", dwelling_id: d.dwelling_id, base_version: d.version, visit });
      location.hash = `#/b/${d.building.building_id}`;
    });
  }

  function position() {
    return new Promise((resolve) => {
      if (!navigator.geolocation) return resolve({});
      navigator.geolocation.getCurrentPosition(
        (p) => resolve({ latitude: p.coords.latitude, longitude: p.coords.longitude, position_accuracy: p.coords.accuracy }),
        () => resolve({}), { timeout: 8000 });
    });
  }

  async function showPerson(id, existing) {
    const work = await getWork();
    const d = dwellingsOf(work).get(id);
    if (!d) return showArea();
    // The default arrival date is the server's today at download (the phone's clock may be wrong).
    const p = existing ? existing.person : { doc_type: "resident_id", category: "resident", arrival_date: work.today || today() };
    const h = p.household || {};
    const field = (name, label, type) =>
      `<label>${esc(label)}<input name="${name}" type="${type || "text"}" value="${esc(p[name] || "")}"></label>`;
    const select = (name, label, table) =>
      `<label>${esc(label)}<select name="${name}">${options(table, p[name], true)}</select></label>`;
    view.innerHTML = `<p><a href="#/d/${d.dwelling_id}">← ${esc(T.room)} ${esc(d.room)}</a></p><h2>${esc(T.add_person)}</h2>` +
      `<form class="card stack" id="app-person">` +
      `<div class="row"><label>${esc(T.doc_type)}<select name="doc_type">${options(L.doc_type, p.doc_type, false)}</select></label>` +
      field("country", T.country) + `</div>` +
      `<label>${esc(T.id_number)}<input name="id_number" id="app-id" value="${esc(p.id_number || "")}" autocomplete="off" maxlength="40"></label>` +
      `<p class="hint" id="app-id-hint"></p>` +
      `<label>${esc(T.name)}<input name="name" required maxlength="50" value="${esc(p.name || "")}"></label>` +
      `<div class="row">${select("sex", T.sex, L.sex)}${field("birth_date", T.birth_date, "date")}</div>` +
      select("ethnicity", T.ethnicity, L.ethnicity) +
      `<div class="row">${field("hukou_region", T.hukou_region)}${field("hukou_address", T.hukou_address)}</div>` +
      select("education", T.education, L.education) + select("marital_status", T.marital_status, L.marital_status) +
      `<div class="row">${field("occupation", T.occupation)}${field("workplace", T.workplace)}</div>` +
      field("phone", T.phone, "tel") +
      `<label>${esc(T.category)}<select name="category">${options(L.categories, p.category, false)}</select></label>` +
      `<div class="row">${field("arrival_date", T.arrival_date, "date")}${field("intended_stay_until", T.intended_stay, "date")}</div>` +
      select("stay_reason", T.stay_reason, L.stay_reason) +
      `<div class="row"><label>${esc(T.household)}<select name="household">` +
      `<option value="">${esc(T.no_household)}</option>` +
      d.households.map((x) => `<option value="${x.household_id}"${h.household_id === x.household_id ? " selected" : ""}>${esc(x.head || "—")} (${x.members})</option>`).join("") +
      `<option value="new"${h.mode === "create" ? " selected" : ""}>${esc(T.new_household)}</option></select></label>` +
      `<label>${esc(T.relationship)}<select name="relationship">${options(L.relationship, h.relationship, true)}</select></label></div>` +
      (d.rental_id ? `<label><input type="checkbox" name="tenant" style="width:auto;min-height:0"${p.tenant ? " checked" : ""}> ${esc(T.tenant)}</label>` : "") +
      `<button type="submit" class="primary">${esc(T.save_person)}</button></form>`;
    const form = document.getElementById("app-person");
    const idInput = document.getElementById("app-id");
    idInput.addEventListener("input", () => {
      const r = form.doc_type.value === "resident_id" ? checkId(idInput.value) : null;
      const hint = document.getElementById("app-id-hint");
      hint.dataset.valid = r ? String(r.valid) : "";
      hint.textContent = r ? (r.valid ? "✓ " + T.id_valid : T.id_invalid) : "";
      if (r && r.valid) {
        form.birth_date.value = r.birth;
        form.sex.value = r.sex;
        if (!form.hukou_region.value) form.hukou_region.value = r.region;
      }
    });
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const data = new FormData(form);
      const person = {};
      for (const key of ["name", "doc_type", "id_number", "country", "sex", "birth_date", "ethnicity", "hukou_region",
        "hukou_address", "education", "marital_status", "occupation", "workplace", "phone", "category",
        "arrival_date", "intended_stay_until", "stay_reason"]) {
        const value = (data.get(key) || "").trim();
        if (value) person[key] = value;
      }
      const household = data.get("household");
      if (household) {
        person.household = household === "new"
          ? { mode: "create", relationship: data.get("relationship") || "02" }
          : { mode: "join", household_id: Number(household), relationship: data.get("relationship") };
      }
      person.tenant = Boolean(data.get("tenant"));
      await save(existing, { kind: "person", dwelling_id: d.dwelling_id, base_version: d.version, person });
      location.hash = `#/d/${d.dwelling_id}`;
    });
  }

  // A move, document, member or birth (issue 14): an outbox item the server makes the online proposal of.
  const CHANGE = {
    move: { subject: "residence_id", body: "move" },
    document: { subject: "person_id", body: "document" },
    member: { subject: "household_id", body: "member" },
    birth: { subject: null, body: "birth" },
  };
  async function showChange(did, kind, sid, existing) {
    const work = await getWork();
    const all = dwellingsOf(work);
    const d = all.get(did);
    if (!d || !CHANGE[kind]) return showArea();
    const v = existing ? existing[CHANGE[kind].body] : {};
    const occupant = d.occupants.find((o) => (kind === "move" ? o.residence_id : o.person_id) === sid);
    const household = (d.households || []).find((h) => h.household_id === (kind === "birth" ? v.household_id || sid : sid));
    const input = (name, label, type, value) =>
      `<label>${esc(label)}<input name="${name}" type="${type || "text"}" value="${esc(value == null ? "" : value)}"></label>`;
    const select = (name, label, table, value, blank) =>
      `<label>${esc(label)}<select name="${name}">${options(table, value, blank)}</select></label>`;
    let fields = "";
    if (kind === "move") {
      const targets = {};
      all.forEach((x, id) => { if (id !== did) targets[String(id)] = `${x.building.label} ${T.room} ${x.room}`; });
      fields = input("move_date", T.move_date, "date", v.move_date || work.today) +
        select("dwelling_id", T.move_to, targets, v.dwelling_id ? String(v.dwelling_id) : "", true) +
        input("note", T.note, "text", v.note);
    } else if (kind === "document") {
      fields = select("doc_type", T.doc_type, L.doc_type, v.doc_type || "passport", false) +
        input("number", T.doc_number, "text", v.number) + input("country", T.country, "text", v.country) +
        input("valid_from", T.valid_from, "date", v.valid_from);
    } else if (kind === "member") {
      const people = {};
      d.occupants.forEach((o) => { people[String(o.person_id)] = o.name; });
      fields = select("person_id", T.person, people, v.person_id ? String(v.person_id) : "", true) +
        select("relationship", T.relationship, L.relationship, v.relationship, true) +
        input("effective", T.effective, "date", v.effective);
    } else {
      fields = input("name", T.name, "text", v.name) + select("sex", T.sex, L.sex, v.sex, true) +
        input("birth_date", T.birth_date, "date", v.birth_date) +
        select("relationship", T.relationship, L.relationship, v.relationship, true) +
        input("resident_id", T.resident_id, "text", v.resident_id);
    }
    const who = kind === "move" || kind === "document" ? (occupant ? occupant.name : "") : (household ? household.head || "" : "");
    view.innerHTML = `<p><a href="#/d/${d.dwelling_id}">← ${esc(T.room)} ${esc(d.room)}</a></p>` +
      `<h2>${esc(T["k_" + kind])} · ${esc(who)}</h2><form class="card stack" id="app-change" data-kind="${kind}">${fields}` +
      `<button type="submit" class="primary">${esc(T.save_outbox)}</button></form>`;
    const form = document.getElementById("app-change");
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const data = new FormData(form);
      const body = {};
      for (const [key, value] of data.entries()) { if (String(value).trim()) body[key] = String(value).trim(); }
      ["dwelling_id", "person_id"].forEach((k) => { if (body[k]) body[k] = Number(body[k]); });
      if (kind === "move") body.expected_version = existing ? v.expected_version : occupant.residence_version;
      if (kind === "document") body.expected_version = existing ? v.expected_version : occupant.person_version;
      if (kind === "member") body.expected_version = existing ? v.expected_version : household.version;
      if (kind === "birth") {
        body.household_id = existing ? v.household_id : sid;
        body.household_expected_version = existing ? v.household_expected_version : household.version;
      }
      const fields = { kind, dwelling_id: d.dwelling_id, base_version: d.version, [CHANGE[kind].body]: body };
      if (CHANGE[kind].subject) fields[CHANGE[kind].subject] = sid;
      await save(existing, fields);
      location.hash = `#/d/${d.dwelling_id}`;
    });
  }

  function describe(i) {
    if (i.kind === "visit") return `${T.visit}: ${L.outcomes[i.visit.outcome] || i.visit.outcome}`;
    if (i.kind === "person") return `${T.person}: ${i.person.name}`;
    const body = i[CHANGE[i.kind].body] || {};
    const extra = i.kind === "birth" ? body.name : i.kind === "document" ? body.number : i.kind === "move" ? body.move_date : "";
    return `${T["k_" + i.kind]}${extra ? ": " + extra : ""}`;
  }

  async function showOutbox() {
    const items = await allItems();
    const work = await getWork();
    const dwellings = dwellingsOf(work);
    const stateLabel = { waiting: T.waiting, sent: T.sent, refused: T.refused, conflict: T.conflict };
    view.innerHTML = `<h2>${esc(T.outbox)}</h2><ul class="list" data-testid="outbox">` + items.slice().reverse().map((i) => {
      const d = dwellings.get(i.dwelling_id);
      const what = describe(i);
      const tone = { waiting: "warn", sent: "ok", refused: "bad", conflict: "bad" }[i.state];
      let extra = "";
      if (i.state === "refused" || i.state === "conflict") {
        extra += `<p class="small error" data-testid="reason">${esc(config.lang === "en" ? i.message_en : i.message_zh)}</p>`;
      }
      if (i.state === "conflict" && i.server) {
        extra += `<p class="small">${esc(T.server_has)}: ${esc(L.dwelling_status[i.server.status] || i.server.status)} · ` +
          `${esc(i.server.occupants.map((o) => o.name).join("、"))}</p>` +
          `<button type="button" data-act="force" data-uuid="${i.uuid}">${esc(T.send_as_is)}</button> `;
      }
      if (i.state === "refused" || i.state === "conflict") {
        extra += `<button type="button" data-act="edit" data-uuid="${i.uuid}">${esc(T.edit)}</button>`;
      }
      return `<li data-testid="outbox-item" data-state="${i.state}" data-kind="${i.kind}" data-uuid="${i.uuid}"><div class="item"><span>${esc(what)}` +
        `<span class="muted small"> · ${esc(d ? d.building.label + " " + T.room + " " + d.room : "#" + i.dwelling_id)}</span></span>` +
        `<span class="badge ${tone}">${esc(stateLabel[i.state])}</span></div>${extra}</li>`;
    }).join("") + `</ul>`;
    view.querySelectorAll("button[data-act]").forEach((button) => button.addEventListener("click", async () => {
      const item = await getItem(button.dataset.uuid);
      if (button.dataset.act === "force") {
        await putItem({ ...item, force: true, state: "waiting" });
        await syncNow();
      } else {
        // Resolving: the collector saw the server's version; their corrected item is based on it.
        if (item.server) item.base_version = item.server.version;
        await putItem(item);
        if (item.kind === "visit") await showVisit(item.dwelling_id, item);
        else if (item.kind === "person") await showPerson(item.dwelling_id, item);
        else await showChange(item.dwelling_id, item.kind, CHANGE[item.kind].subject ? item[CHANGE[item.kind].subject] : item.birth.household_id, item);
      }
    }));
  }

  async function save(existing, fields) {
    const item = existing
      ? { ...existing, ...fields, base_version: existing.base_version, state: "waiting", code: null }
      : { uuid: uuid4(), created_at: new Date().toISOString(), state: "waiting", force: false, ...fields };
    await putItem(item);
    say(T.saved_offline);
    await refreshBar();
    if (navigator.onLine) syncNow();
  }

  // ---------------------------------------------------------------- sync
  function payloadOf(i) {
    const base = { uuid: i.uuid, kind: i.kind, dwelling_id: i.dwelling_id, base_version: i.base_version, force: Boolean(i.force) };
    if (i.kind === "visit") return { ...base, visit: i.visit };
    if (i.kind === "person") return { ...base, person: i.person };
    const c = CHANGE[i.kind];
    return c.subject ? { ...base, [c.subject]: i[c.subject], [c.body]: i[c.body] } : { ...base, [c.body]: i[c.body] };
  }
  async function exportOutbox() {
    // The items not yet stored, in the sync format (`liangshi collect sync FILE --as USER`).
    const items = (await allItems()).filter((i) => i.state !== "sent").map(payloadOf);
    const blob = new Blob([JSON.stringify({ items }, null, 1)], { type: "application/json" });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = `outbox-${config.user}-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, "")}.json`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }
  const syncNow = O.serial(() => doSync());
  async function doSync() {
    const waiting = (await allItems()).filter((i) => i.state === "waiting");
    if (!waiting.length) { await refreshBar(); return; }
    const payload = waiting.map(payloadOf);
    const answer = await O.post("/web/collect/sync", csrf, payload);
    if (!answer) {
      say(`${T.offline} · ${waiting.length} ${T.items}`); // everything stays waiting in the outbox
      await refreshBar();
      return;
    }
    for (const r of answer.items) {
      const item = waiting[r.index];
      const sent = r.status === "stored" || r.status === "replayed";
      await putItem({
        ...item,
        state: sent ? "sent" : r.status,
        code: r.code,
        message_zh: r.message_zh,
        message_en: r.message_en,
        server: r.data && r.data.server ? r.data.server : item.server || null,
        result: sent ? { visit_id: r.visit_id, person_id: r.person_id, change_set_id: r.change_set_id, dwelling_version: r.dwelling_version } : null,
        synced_at: new Date().toISOString(),
      });
    }
    const c = answer.counts;
    say(`${T.sent}: ${c.stored + c.replayed} · ${T.refused}: ${c.refused} · ${T.conflict}: ${c.conflict}`);
    await refreshBar();
    if (location.hash === "#/outbox") await showOutbox();
  }

  async function download() {
    try {
      const response = await fetch("/web/collect/work.json", { credentials: "same-origin" });
      if (!response.ok) throw new Error(String(response.status));
      await putWork(await response.json());
      say(T.downloaded);
      await route();
    } catch (err) {
      say(T.offline);
    }
  }

  // ---------------------------------------------------------------- routing
  let routeSeq = 0;
  let doneSeq = 0;
  async function route() {
    // Views render asynchronously (IndexedDB): an older view finishing after a newer one renders the hash again.
    const seq = ++routeSeq;
    const hash = location.hash || "#/";
    const m = hash.match(/^#\/(b|d|p)\/(\d+)$/);
    const x = hash.match(/^#\/x\/(\d+)\/(move|document|member|birth)\/(\d+)$/);
    if (hash === "#/outbox") await showOutbox();
    else if (x) await showChange(Number(x[1]), x[2], Number(x[3]));
    else if (m && m[1] === "b") await showBuilding(Number(m[2]));
    else if (m && m[1] === "d") await showVisit(Number(m[2]));
    else if (m && m[1] === "p") await showPerson(Number(m[2]));
    else await showArea();
    if (seq < doneSeq) { await route(); return; }
    doneSeq = seq;
    await refreshBar();
    view.dataset.ready = "true";
  }

  window.addEventListener("hashchange", route);
  window.addEventListener("online", () => { refreshBar(); syncNow(); });
  window.addEventListener("offline", refreshBar);
  document.getElementById("download").addEventListener("click", download);
  document.getElementById("sync").addEventListener("click", syncNow);
  document.getElementById("export").addEventListener("click", exportOutbox);
  route();
})();
