/* liangshi offline inspection (离线抽查): the inspector's sampled households and outbox in IndexedDB, synced when
 * online — the collection app's machinery (offline-outbox.js) carrying inspection results.
 *
 * The sample (per plan, the households not inspected yet, their registered members with age band and whether
 * floating) is downloaded from /web/collect/inspect/work.json. Each result becomes an outbox item with a UUID made
 * on the phone; it stays in the outbox (reload, refusal) until the server stored it. Sync posts the waiting items
 * to /web/collect/inspect/sync; the server answers per item: stored / replayed, or refused with its reason (not
 * in the sample, the inspector's own collection, …), which stays visible in the outbox.
 * Hash routes: #/ the sample, #/h/PLAN/HOUSEHOLD the result form, #/outbox. */
"use strict";

(function () {
  const config = JSON.parse(document.getElementById("app-config").textContent);
  const T = config.texts;
  const BANDS = config.bands;
  const view = document.getElementById("view");
  const statusLine = document.getElementById("status");
  const O = window.LiangshiOffline;
  const esc = O.esc;
  const csrf = O.csrfToken();
  const { getWork, putWork, allItems, getItem, putItem } = O.store("liangshi-inspect-" + config.user);

  O.registerWorker();

  function say(text) { statusLine.textContent = text; }
  function householdsOf(work) {
    const map = new Map();
    (work ? work.plans : []).forEach((p) => p.households.forEach((h) => map.set(`${p.plan_id}/${h.household_id}`, { ...h, plan: p })));
    return map;
  }

  async function refreshBar() {
    O.showNet(T);
    const items = await allItems();
    document.getElementById("outbox-count").textContent = String(items.filter((i) => i.state !== "sent").length);
  }

  async function showSample() {
    const work = await getWork();
    if (!work) { view.innerHTML = `<p class="muted" data-testid="no-work">${esc(T.no_work)}</p>`; return; }
    const items = await allItems();
    const done = new Set(items.map((i) => `${i.plan_id}/${i.household_id}`));
    view.innerHTML = `<p class="muted small">${esc(T.downloaded)}: ${esc(work.downloaded_at.slice(0, 16).replace("T", " "))}</p>` +
      work.plans.map((p) => `<section class="card"><h2>${esc(p.name)}</h2><ul class="list">` +
        p.households.map((h) => {
          const key = `${p.plan_id}/${h.household_id}`;
          return `<li><a href="#/h/${key}" data-testid="app-household-${h.household_id}"><span>${esc(T.household)} ${esc(h.household_number || "—")}` +
            ` <span class="muted small">· ${esc(h.community_code)} · ${h.members.length}</span></span>` +
            `<span class="badge${done.has(key) ? " ok" : ""}">${done.has(key) ? esc(T.inspected) : ""}${h.own ? " ⚠" : ""}</span></a></li>`;
        }).join("") + `</ul></section>`).join("");
  }

  async function showForm(planId, householdId, existing) {
    const work = await getWork();
    const h = householdsOf(work).get(`${planId}/${householdId}`);
    if (!h) return showSample();
    const f = existing ? existing.form : { present: h.members.map((m) => m.person_id), main: h.members.map((m) => m.person_id),
      general: h.members.map((m) => m.person_id), general_wrong: {}, unconfirmed: [], missed: {}, missed_floating: 0,
      floating_unentered: 0, count_matches: true, note: "" };
    const label = { present: "present", main: "main_right", general: "general_right", unconfirmed: "unconfirmed" };
    const box = (name, m, list) => `<input type="checkbox" name="${name}" value="${m.person_id}" aria-label="${esc(T[label[name]])} ${esc(m.name)}"` +
      ` style="width:auto;min-height:0"${(list || []).includes(m.person_id) ? " checked" : ""}>`;
    view.innerHTML = `<p><a href="#/">← ${esc(T.back)}</a></p>` +
      `<h2>${esc(T.household)} ${esc(h.household_number || "—")} <span class="muted small">${esc(h.community_code)}</span></h2>` +
      (h.own ? `<p class="error small" data-testid="own-warning">${esc(T.own)}</p>` : "") +
      `<form class="card stack" id="app-result"><h3>${esc(T.members)}</h3><ul class="list">` +
      h.members.map((m) => `<li data-testid="app-member"><strong>${esc(m.name)}</strong> <span class="muted small">${esc(BANDS[m.age_band] || "")}` +
        `${m.floating ? " · " + esc(T.floating) : ""}</span><div class="row small">` +
        `<label>${box("present", m, f.present)} ${esc(T.present)}</label>` +
        `<label>${box("main", m, f.main)} ${esc(T.main_right)}</label>` +
        `<label>${box("general", m, f.general)} ${esc(T.general_right)}</label>` +
        `<label>${box("unconfirmed", m, f.unconfirmed)} ${esc(T.unconfirmed)}</label>` +
        `<label>${esc(T.general_wrong)}<input name="gw_${m.person_id}" type="number" inputmode="numeric" min="1" max="${config.general_items}"` +
        ` style="width:4em" value="${(f.general_wrong || {})[m.person_id] || ""}"></label></div></li>`).join("") +
      `</ul><fieldset><legend>${esc(T.missed)}</legend><div class="row">` +
      Object.entries(BANDS).map(([band, label]) => `<label>${esc(label)}<input name="missed_${band}" type="number" inputmode="numeric" min="0" max="50"` +
        ` value="${f.missed[band] || ""}"></label>`).join("") +
      `</div><label>${esc(T.missed_floating)}<input name="missed_floating" type="number" inputmode="numeric" min="0" max="50" value="${f.missed_floating || ""}"></label>` +
      `<label>${esc(T.floating_unentered)}<input name="floating_unentered" type="number" inputmode="numeric" min="0" max="50" value="${f.floating_unentered || ""}"></label></fieldset>` +
      `<p class="error small" role="alert" id="app-form-error" hidden></p>` +
      `<label><input type="checkbox" name="count_matches" style="width:auto;min-height:0"${f.count_matches ? " checked" : ""}> ${esc(T.count_matches)}</label>` +
      `<label>${esc(T.note)}<textarea name="note" rows="2" maxlength="500">${esc(f.note || "")}</textarea></label>` +
      `<button type="submit" class="primary">${esc(T.save)}</button></form>`;
    const form = document.getElementById("app-result");
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const data = new FormData(form);
      const ids = (name) => data.getAll(name).map(Number);
      const missed = {};
      Object.keys(BANDS).forEach((band) => { const n = Number(data.get(`missed_${band}`) || 0); if (n > 0) missed[band] = n; });
      const general = ids("general");
      const present = ids("present");
      // A person found whose general items are not all right: how many of them are missing or wrong (1 to all).
      const generalWrong = {};
      const unknown = [];
      h.members.filter((m) => present.includes(m.person_id) && !general.includes(m.person_id)).forEach((m) => {
        const n = Number(data.get(`gw_${m.person_id}`) || 0);
        if (n >= 1 && n <= config.general_items) generalWrong[m.person_id] = n; else unknown.push(m.name);
      });
      const problem = document.getElementById("app-form-error");
      if (unknown.length) {
        problem.textContent = `${T.general_count_needed}: ${unknown.join("、")}`;
        problem.hidden = false;
        return;
      }
      // A person not found whom nobody could say has moved away or died: not confirmed gone (Chapman's n₁).
      const unconfirmed = ids("unconfirmed").filter((id) => !present.includes(id));
      const fields = { present, main: ids("main"), general, general_wrong: generalWrong, unconfirmed, missed,
        missed_floating: Number(data.get("missed_floating") || 0), floating_unentered: Number(data.get("floating_unentered") || 0),
        count_matches: Boolean(data.get("count_matches")), note: (data.get("note") || "").trim() };
      await save(existing, { plan_id: planId, household_id: householdId, form: fields, result: resultOf(h, fields) });
      location.hash = "#/";
    });
  }

  // The counts the server stores (per person, and per age band for the coverage by age band).
  function resultOf(h, f) {
    const present = h.members.filter((m) => f.present.includes(m.person_id));
    const unconfirmed = h.members.filter((m) => !f.present.includes(m.person_id) && (f.unconfirmed || []).includes(m.person_id));
    const right = (list) => present.filter((m) => list.includes(m.person_id)).length;
    const floating = present.filter((m) => m.floating);
    const missedTotal = Object.values(f.missed).reduce((a, b) => a + b, 0);
    const bands = Object.keys(BANDS).map((band) => ({
      age_band: band,
      persons_registered: h.members.filter((m) => m.age_band === band).length,
      persons_present: present.filter((m) => m.age_band === band).length,
      persons_missed: f.missed[band] || 0,
      persons_unconfirmed: unconfirmed.filter((m) => m.age_band === band).length,
    })).filter((b) => b.persons_registered || b.persons_missed);
    const floatingMissed = Math.min(f.missed_floating || 0, missedTotal);
    // Floating persons found but not in the register: some may have registered without being entered in the system.
    const unentered = Math.min(f.floating_unentered || 0, floatingMissed);
    const wrong = present.filter((m) => !f.general.includes(m.person_id))
      .reduce((a, m) => a + ((f.general_wrong || {})[m.person_id] || 0), 0);
    return {
      persons_registered: h.members.length,
      persons_present: present.length,
      persons_unconfirmed: unconfirmed.length,
      main_right: right(f.main),
      general_right: right(f.general),
      general_items_wrong: wrong,
      floating_found: floating.length + floatingMissed,
      floating_registered: floating.length + unentered,
      floating_entered: floating.length,
      floating_right: floating.filter((m) => f.main.includes(m.person_id)).length,
      persons_missed: missedTotal,
      count_matches: f.count_matches,
      note: f.note || null,
      bands,
    };
  }

  async function showOutbox() {
    const items = await allItems();
    const work = await getWork();
    const households = householdsOf(work);
    const stateLabel = { waiting: T.waiting, sent: T.stored, refused: T.refused };
    view.innerHTML = `<h2>${esc(T.outbox)}</h2><ul class="list" data-testid="outbox">` + items.slice().reverse().map((i) => {
      const h = households.get(`${i.plan_id}/${i.household_id}`);
      const tone = { waiting: "warn", sent: "ok", refused: "bad" }[i.state];
      const extra = i.state === "refused"
        ? `<p class="small error" data-testid="reason">${esc(config.lang === "en" ? i.message_en : i.message_zh)}</p>` +
          (h ? `<button type="button" data-act="edit" data-uuid="${i.uuid}">${esc(T.edit)}</button>` : "")
        : "";
      return `<li data-testid="outbox-item" data-state="${i.state}" data-household="${i.household_id}" data-uuid="${i.uuid}"><div class="item">` +
        `<span>${esc(T.household)} ${esc(h ? h.household_number || "—" : "#" + i.household_id)}</span>` +
        `<span class="badge ${tone}">${esc(stateLabel[i.state])}</span></div>${extra}</li>`;
    }).join("") + `</ul>`;
    view.querySelectorAll("button[data-act=edit]").forEach((button) => button.addEventListener("click", async () => {
      const item = await getItem(button.dataset.uuid);
      await showForm(item.plan_id, item.household_id, item);
    }));
  }

  async function save(existing, fields) {
    const item = existing
      ? { ...existing, ...fields, state: "waiting", code: null }
      : { uuid: O.uuid4(), created_at: new Date().toISOString(), state: "waiting", ...fields };
    await putItem(item);
    say(T.saved_offline);
    await refreshBar();
    if (navigator.onLine) syncNow();
  }

  function payloadOf(i) {
    return { uuid: i.uuid, kind: "inspection", plan_id: i.plan_id, household_id: i.household_id, result: i.result };
  }
  const syncNow = O.serial(async () => {
    const waiting = (await allItems()).filter((i) => i.state === "waiting");
    if (!waiting.length) { await refreshBar(); return; }
    const answer = await O.post("/web/collect/inspect/sync", csrf, waiting.map(payloadOf));
    if (!answer) { say(`${T.offline} · ${waiting.length} ${T.items}`); await refreshBar(); return; }
    for (const r of answer.items) {
      const item = waiting[r.index];
      const sent = r.status === "stored" || r.status === "replayed";
      await putItem({ ...item, state: sent ? "sent" : "refused", code: r.code, message_zh: r.message_zh,
        message_en: r.message_en, result_id: sent ? r.data.result_id : null, synced_at: new Date().toISOString() });
    }
    const c = answer.counts;
    say(`${T.stored}: ${c.stored + c.replayed} · ${T.refused}: ${c.refused}`);
    await refreshBar();
    if (location.hash === "#/outbox") await showOutbox();
  });

  async function download() {
    try {
      const response = await fetch("/web/collect/inspect/work.json", { credentials: "same-origin" });
      if (!response.ok) throw new Error(String(response.status));
      await putWork(await response.json());
      say(T.downloaded);
      await route();
    } catch (err) {
      say(T.offline);
    }
  }

  let routeSeq = 0;
  let doneSeq = 0;
  async function route() {
    const seq = ++routeSeq;
    const hash = location.hash || "#/";
    const m = hash.match(/^#\/h\/(\d+)\/(\d+)$/);
    if (hash === "#/outbox") await showOutbox();
    else if (m) await showForm(Number(m[1]), Number(m[2]));
    else await showSample();
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
  route();
})();
