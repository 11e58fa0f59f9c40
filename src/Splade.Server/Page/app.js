// The search page: expansion of the query as a bar chart (POST embed_sparse, tokens format) and,
// when the server has an index, the hits of POST search with the tokens behind each score.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const form = $("query-form"), input = $("query"), run = $("run"), statusLine = $("status");
  const EXPANSION_BARS = 40, TOP_K = 10, EXPLAIN = 12;
  let hasIndex = false, infoLoaded = false;

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function setStatus(text, isError) {
    statusLine.textContent = text;
    statusLine.classList.toggle("error", !!isError);
  }

  async function call(method, path, body) {
    const headers = { "Accept": "application/json" };
    const key = $("api-key").value.trim();
    if (key) headers["Authorization"] = "Bearer " + key;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch (e) { /* not JSON */ }
    if (!response.ok) {
      const message = json && json.error ? json.error : text || response.statusText;
      throw new Error(path + ": " + response.status + " " + message);
    }
    return json;
  }

  function renderExpansion(tokens) {
    const list = $("expansion");
    list.replaceChildren();
    const entries = Object.entries(tokens).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    const max = entries.length ? entries[0][1] : 1;
    for (const [token, weight] of entries.slice(0, EXPANSION_BARS)) {
      const li = el("li");
      li.dataset.token = token;
      li.dataset.weight = String(weight);
      const track = el("span", "track"), fill = el("span", "fill");
      fill.style.width = (100 * weight / max).toFixed(1) + "%";
      track.append(fill);
      li.append(el("span", "token", token), track, el("span", "weight", weight.toFixed(2)));
      li.title = token + ": " + weight.toFixed(4);
      list.append(li);
    }
    if (entries.length > EXPANSION_BARS) list.append(el("li", "muted", "… and " + (entries.length - EXPANSION_BARS) + " more tokens"));
    if (!entries.length) list.append(el("li", "muted", "The query activates no token."));
  }

  // A word of the text matches a contributing token when it equals the token, or starts with it
  // (a word piece "##ing" matches a word ending in "ing").
  function highlight(text, explain, score) {
    const share = new Map();
    for (const t of explain) share.set(t.token.toLowerCase(), score > 0 ? t.weight / score : 0);
    const p = el("p", "text");
    for (const part of text.split(/(\p{L}[\p{L}\p{N}]*|\p{N}+)/u)) {
      if (!part) continue;
      const word = part.toLowerCase();
      let s = share.get(word);
      if (s === undefined) {
        for (const [token, v] of share) {
          if ((token.startsWith("##") && word.endsWith(token.slice(2)) && token.length > 3) ||
              (!token.startsWith("##") && token.length > 2 && word.startsWith(token))) { s = v; break; }
        }
      }
      if (s === undefined) { p.append(document.createTextNode(part)); continue; }
      const mark = el("mark", "", part);
      mark.style.setProperty("--share", (0.25 + 0.75 * Math.min(1, s)).toFixed(2));
      mark.title = "contributes " + (100 * s).toFixed(0) + "% of the score";
      p.append(mark);
    }
    return p;
  }

  function renderResults(hits) {
    const list = $("results");
    list.replaceChildren();
    hits.forEach((hit, rank) => {
      const li = el("li", "hit");
      li.dataset.id = hit.id;
      li.dataset.score = String(hit.score);
      const head = el("div", "hit-head");
      head.append(el("span", "rank", "#" + (rank + 1)), el("span", "doc-id", hit.id), el("span", "score", "score " + hit.score.toFixed(3)));
      li.append(head);
      const explain = hit.explain || [];
      if (hit.text) li.append(highlight(hit.text, explain, hit.score));
      const chips = el("ul", "contrib");
      for (const t of explain) {
        const chip = el("li", "", t.token);
        chip.dataset.token = t.token;
        chip.dataset.weight = String(t.weight);
        const s = hit.score > 0 ? t.weight / hit.score : 0;
        chip.style.setProperty("--share", (0.15 + 0.85 * Math.min(1, s)).toFixed(2));
        chip.title = (100 * s).toFixed(1) + "% of the score";
        chip.append(el("span", "w", t.weight.toFixed(2)));
        chips.append(chip);
      }
      if (explain.length) li.append(chips);
      list.append(li);
    });
    if (!hits.length) list.append(el("li", "muted", "No document shares a token with the query."));
  }

  // What the server serves (model, index size); needs the API key when the server has one.
  async function loadInfo() {
    const info = await call("GET", "info");
    $("model").textContent = info.model_id + " · " + info.dimension + " dimensions";
    hasIndex = info.index_documents !== null && info.index_documents !== undefined;
    $("index-note").textContent = hasIndex
      ? "Index of " + info.index_documents + " documents. Highlight: how much of a hit's score a token makes."
      : "No index is loaded: start the server with --index DIR to search.";
    infoLoaded = true;
  }

  async function runQuery(query) {
    document.body.dataset.state = "running";
    run.disabled = true;
    setStatus("Encoding…");
    try {
      if (!infoLoaded) await loadInfo();
      const [expansion] = await call("POST", "embed_sparse", { inputs: query, role: "query", format: "tokens" });
      renderExpansion(expansion.tokens);
      if (hasIndex) {
        setStatus("Searching…");
        const hits = await call("POST", "search", { query, top_k: TOP_K, explain: EXPLAIN });
        renderResults(hits);
        setStatus(Object.keys(expansion.tokens).length + " expansion tokens, " + hits.length + " hits.");
      } else {
        setStatus(Object.keys(expansion.tokens).length + " expansion tokens.");
      }
      document.body.dataset.state = "done";
    } catch (e) {
      setStatus(e.message, true);
      document.body.dataset.state = "error";
    } finally {
      run.disabled = false;
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const query = input.value.trim();
    if (!query) return;
    const url = new URL(window.location.href);
    url.searchParams.set("q", query);
    history.replaceState(null, "", url);
    runQuery(query);
  });

  async function start() {
    try {
      await loadInfo();
    } catch (e) {
      setStatus(e.message, true);
    }
    document.body.dataset.state = "ready";
    const q = new URL(window.location.href).searchParams.get("q");
    if (q) { input.value = q; await runQuery(q); }
  }
  start();
})();
