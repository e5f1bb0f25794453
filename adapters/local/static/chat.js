// The local web chat: sends commands and actions, renders neutral messages, and listens
// on an event stream for proactive messages. Everything is built with DOM nodes and
// textContent, so nothing a user typed is ever interpreted as HTML.
"use strict";

const log = document.getElementById("log");
const userInput = document.getElementById("user");
const textInput = document.getElementById("text");
let user = localStorage.getItem("mentorbot.user") || "";
let stream = null;
const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, props || {});
  for (const child of children) node.append(child);
  return node;
}

// The markdown subset: *bold*, _italic_, `code`, <url|label> links; the rest is literal text.
// As in Slack, * and _ only mark emphasis at word edges, so snake_case, @jane_doe or 2*3*4
// stay literal.
const INLINE = new RegExp([
  /(?<![\w*])\*[^*\s](?:[^*\n]*[^*\s])?\*(?![\w*])/.source,
  /(?<![\w_])_[^_\s](?:[^_\n]*[^_\s])?_(?![\w_])/.source,
  /`[^`\n]+`/.source,
  /<(https?:\/\/[^|>\s]+)(?:\|([^>]+))?>/.source,
].join("|"), "g");

function inline(text) {
  const out = document.createDocumentFragment();
  let last = 0;
  for (const m of text.matchAll(INLINE)) {
    out.append(text.slice(last, m.index));
    const token = m[0];
    if (m[1]) out.append(el("a", { href: m[1], textContent: m[2] || m[1], target: "_blank", rel: "noopener" }));
    else if (token[0] === "*") out.append(el("strong", { textContent: token.slice(1, -1) }));
    else if (token[0] === "_") out.append(el("em", { textContent: token.slice(1, -1) }));
    else out.append(el("code", { textContent: token.slice(1, -1) }));
    last = m.index + token.length;
  }
  out.append(text.slice(last));
  return out;
}

function renderForm(block) {
  const form = el("form", { className: "card" });
  form.dataset.formId = block.form_id;
  form.append(el("strong", { textContent: block.title }));
  for (const input of block.inputs) {
    const label = el("label", {}, input.label);
    let field;
    if (input.kind === "multiline") field = el("textarea", { rows: 3 });
    else if (input.kind === "select" || input.kind === "multiselect") {
      field = el("select", { multiple: input.kind === "multiselect" });
      for (const opt of input.options) field.append(el("option", { value: opt.value, textContent: opt.label }));
    } else field = el("input", { type: input.kind === "date" ? "date" : input.kind === "time" ? "time" : "text" });
    field.name = input.name;
    if (field.multiple) {
      const chosen = new Set(input.value.split(",").map((v) => v.trim()));
      for (const opt of field.options) opt.selected = chosen.has(opt.value);
    } else field.value = input.value;
    if (input.placeholder) field.placeholder = input.placeholder;
    label.append(field);
    if (input.hint) label.append(el("span", { className: "hint", textContent: input.hint }));
    if (input.error) label.append(el("span", { className: "err", textContent: input.error }));
    form.append(label);
  }
  form.append(el("button", { type: "submit", className: "primary", textContent: block.submit_label }));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const fields = {};
    for (const f of form.elements) {
      if (!f.name) continue;
      fields[f.name] = f.multiple ? [...f.selectedOptions].map((o) => o.value).join(",") : f.value;
    }
    const save = form.querySelector("button[type=submit]");
    save.disabled = true; // one submission at a time; a double click does not save twice
    send({ action_id: "form.submit", form_id: block.form_id, fields }).finally(() => { save.disabled = false; });
  });
  return form;
}

function renderBlock(block) {
  switch (block.type) {
    case "header": return el("h3", { textContent: block.text });
    case "text": return el("p", {}, inline(block.text));
    case "context": return el("p", { className: "ctx" }, inline(block.text));
    case "divider": return el("hr");
    case "fields": {
      const dl = el("dl");
      for (const [label, value] of block.items) dl.append(el("dt", {}, inline(label)), el("dd", {}, inline(value)));
      return dl;
    }
    case "buttons": {
      const row = el("div", { className: "buttons" });
      for (const b of block.buttons) {
        const button = el("button", { type: "button", textContent: b.label, className: b.style === "default" ? "" : b.style });
        button.addEventListener("click", () => send({ action_id: b.action_id, value: b.value }, b.label));
        row.append(button);
      }
      return row;
    }
    case "form": return renderForm(block);
    case "file": { // an attachment (an .ics invite): a download link, built without a server round trip
      const href = block.encoding === "base64"
        ? "data:" + block.mime + ";base64," + block.content
        : "data:" + block.mime + ";charset=utf-8," + encodeURIComponent(block.content);
      const link = el("a", { href, download: block.filename, textContent: "Download " + block.filename });
      if (block.mime.startsWith("image/") && block.encoding === "base64") {
        return el("p", { className: "ctx" }, el("img", { src: href, alt: block.filename, style: "max-width:100%" }), el("br", {}), link);
      }
      return el("p", { className: "ctx" }, link);
    }
    default: return null; // unknown block: the message text already says it
  }
}

function renderMessage(message, kind) {
  const box = el("div", { className: "msg bot" + (kind ? " " + kind : "") });
  const nodes = (message.blocks || []).map(renderBlock).filter(Boolean);
  if (nodes.length === 0) box.append(el("p", {}, inline(message.text)));
  else box.append(...nodes);
  log.append(box);
  log.scrollTop = log.scrollHeight;
}

function note(text, kind) {
  log.append(el("div", { className: "msg " + kind, textContent: text }));
  log.scrollTop = log.scrollHeight;
}

// Requests go one at a time, so replies show in the order things were sent (a quick
// second command or click does not overtake the first).
let pending = Promise.resolve();

function send(body, echo) {
  if (!user) { note("Type a user name at the top first.", "error"); userInput.focus(); return pending; }
  if (echo !== undefined) note(echo, "me");
  const request = { user, timezone: tz, ...body };
  if (echo !== undefined) request.echo = echo; // what the history shows on your side
  pending = pending.then(() => post(request));
  return pending;
}

async function post(request) {
  try {
    const response = await fetch("/local/api/messages", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(request),
    });
    const data = await response.json().catch(() => ({}));
    if (request.user !== user) return; // switched user meanwhile: not this transcript
    if (!response.ok) { note(data.error || "The bot could not take that.", "error"); return; }
    for (const message of data.replies) renderMessage(message);
  } catch (err) {
    note("The bot is not reachable. Is `mentorbot run` still running?", "error");
  }
}

function connect() {
  if (stream) stream.close();
  stream = new EventSource("/local/api/stream?user=" + encodeURIComponent(user));
  stream.addEventListener("message", (e) => renderMessage(JSON.parse(e.data), "proactive"));
}

// The person's last messages, kept by the server: shown again after a reload or a switch
// of user, before the event stream opens (so a queued message arrives after them).
async function showHistory(name) {
  try {
    const response = await fetch("/local/api/history?user=" + encodeURIComponent(name));
    const data = await response.json();
    if (!response.ok || user !== name) return 0;
    for (const line of data.lines) {
      if (line.from === "person") note(line.text, "me");
      else renderMessage(line.message);
    }
    return data.lines.length;
  } catch (err) {
    return 0; // the history is a convenience: the chat works without it
  }
}

async function setUser(name) {
  user = name;
  localStorage.setItem("mentorbot.user", name);
  userInput.value = name;
  log.replaceChildren();
  if (stream) { stream.close(); stream = null; }
  const shown = await showHistory(name);
  if (user !== name) return; // switched again meanwhile
  note(shown
    ? `You are @${name}; your last messages are above.`
    : `You are @${name}. Try /mentor help or /mentor join mentee.`, "ctx");
  connect();
}

document.getElementById("who").addEventListener("submit", (e) => {
  e.preventDefault();
  if (userInput.checkValidity()) setUser(userInput.value.trim());
});
document.getElementById("composer").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = textInput.value;
  if (!text.trim()) return;
  if (!user) { send({ text }); return; } // asks for a name and keeps what was typed
  textInput.value = "";
  send({ text }, text);
});
if (user) setUser(user); else userInput.focus();
