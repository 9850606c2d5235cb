// The playground page: shows what the server renders and sends what the person does.
// No framework: the server renders every piece as HTML; this file only wires events.
"use strict";

const pg = {
  user: localStorage.getItem("pg-user") || null,
  conv: localStorage.getItem("pg-conv") || "home",
  thread: null,
  modalId: null,
  modalHtml: null,
  busy: 0,
};

const $ = (id) => document.getElementById(id);

function toast(text) {
  const box = $("pg-toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 6000);
}

async function post(verb, body) {
  pg.busy += 1;
  document.body.classList.add("pg-busy");
  try {
    const response = await fetch("/api/" + verb, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ user: pg.user, conv: pg.conv, ...body }),
    });
    const data = await response.json();
    if (!data.ok) toast(data.error || "That did not work");
    return data;
  } catch (error) {
    toast("The playground is not answering: is `make demo` still running?");
    return { ok: false };
  } finally {
    pg.busy -= 1;
    if (!pg.busy) document.body.classList.remove("pg-busy");
    await refresh();
  }
}

function formValues(root) {
  const values = {};
  root.querySelectorAll(".sk-external__value[data-label]").forEach((el) => {
    values[el.name.replace(/^state::/, "label::")] = el.dataset.label;
  });
  root.querySelectorAll("[name]").forEach((el) => {
    if (!el.name.startsWith("state::") && !el.name.startsWith("label::")) return;
    if ((el.type === "checkbox" || el.type === "radio") && !el.checked) return;
    if (el.multiple) {
      values[el.name] = Array.from(el.selectedOptions).map((o) => o.value);
      return;
    }
    if (el.type === "checkbox") {
      (values[el.name] = values[el.name] || []).push(el.value);
      return;
    }
    values[el.name] = el.value;
  });
  return values;
}

function restoreValues(root, values) {
  root.querySelectorAll(".sk-external__value").forEach((el) => {
    const label = values[el.name.replace(/^state::/, "label::")];
    if (label === undefined || !values[el.name]) return;
    el.dataset.label = label;
    el.closest(".sk-external").querySelector(".sk-external__query").value = label;
  });
  root.querySelectorAll("[name]").forEach((el) => {
    if (!(el.name in values)) return;
    const value = values[el.name];
    if (el.type === "checkbox" || el.type === "radio") {
      el.checked = Array.isArray(value) ? value.includes(el.value) : value === el.value;
    } else if (el.multiple) {
      Array.from(el.options).forEach((o) => { o.selected = value.includes(o.value); });
    } else {
      el.value = value;
    }
  });
}

async function refresh() {
  if (!pg.user) pg.user = $("pg-person").value;
  const params = new URLSearchParams({ user: pg.user, conv: pg.conv });
  if (pg.thread) params.set("thread", pg.thread);
  let state;
  try {
    state = await (await fetch("/api/state?" + params)).json();
  } catch (error) {
    return;
  }
  if (state.ok === false) { toast(state.error); return; }
  $("pg-clock").textContent = state.clock;
  $("pg-zone").textContent = "(" + state.zone + ")";
  $("pg-sidebar").innerHTML = state.sidebar;
  $("pg-title").textContent = state.title;
  $("pg-tabs").hidden = !(pg.conv === "home" || pg.conv === "dm");
  $("pg-tabs").querySelectorAll("a").forEach((a) => a.classList.toggle("pg-active", a.dataset.conv === pg.conv));
  $("pg-composer").hidden = pg.conv === "home";
  const main = $("pg-main");
  if (main.dataset.html !== state.main) {
    const atBottom = main.scrollHeight - main.scrollTop - main.clientHeight < 40;
    main.innerHTML = state.main;
    main.dataset.html = state.main;
    if (pg.conv === "home") {
      if (main.dataset.conv !== pg.conv) main.scrollTop = 0;
    } else if (atBottom || main.dataset.conv !== pg.conv) {
      main.scrollTop = main.scrollHeight;
    }
    main.dataset.conv = pg.conv;
  }
  const thread = $("pg-thread");
  thread.hidden = !state.thread;
  if (state.thread && $("pg-thread-body").dataset.html !== state.thread) {
    $("pg-thread-body").innerHTML = state.thread;
    $("pg-thread-body").dataset.html = state.thread;
  }
  const overlay = $("pg-overlay");
  if (!state.modal) {
    overlay.hidden = true;
    overlay.innerHTML = "";
    pg.modalId = null;
    pg.modalHtml = null;
  } else if (state.modal !== pg.modalHtml) {
    const kept = pg.modalId === state.modal_id ? formValues(overlay) : {};
    overlay.innerHTML = state.modal;
    restoreValues(overlay, kept);
    overlay.hidden = false;
    pg.modalId = state.modal_id;
    pg.modalHtml = state.modal;
    const first = overlay.querySelector("input:not([type=hidden]), textarea, select");
    if (first && !Object.keys(kept).length) first.focus();
  }
  if (state.notice) toast(state.notice);
}

function optionText(select) {
  const option = select.selectedOptions && select.selectedOptions[0];
  return option ? option.textContent.trim() : select.value;
}

// What Slack sends for an element the person used, as the `actions[0]` of block_actions.
function actionOf(el) {
  const type = el.dataset.type || (el.tagName === "BUTTON" ? "button" : "static_select");
  const action = { action_id: el.dataset.actionId, block_id: el.dataset.blockId || "", type };
  if (type === "button") {
    if (el.dataset.value !== undefined) action.value = el.dataset.value;
    action.text = { type: "plain_text", text: el.textContent.trim(), emoji: true };
  } else if (type === "users_select") {
    action.selected_user = el.value;
  } else if (type === "datepicker") {
    action.selected_date = el.value;
  } else if (type === "conversations_select") {
    action.selected_conversation = el.value;
  } else if (type === "channels_select") {
    action.selected_channel = el.value;
  } else if (type === "overflow" && el.tagName === "BUTTON") {
    action.selected_option = { text: { type: "plain_text", text: el.textContent.trim() }, value: el.dataset.value };
  } else if (type === "static_select" || type === "radio_buttons") {
    action.selected_option = { text: { type: "plain_text", text: optionText(el) }, value: el.value };
  }
  return action;
}

function where(el) {
  const modal = el.closest(".pg-modal");
  if (modal) return { view_id: modal.dataset.viewId, form: formValues(modal) };
  const home = el.closest(".pg-home");
  if (home) return { view_id: home.dataset.viewId };
  const ephemeral = el.closest("[data-ephemeral-ts]");
  if (ephemeral) return { conv: ephemeral.dataset.conv, ephemeral_ts: ephemeral.dataset.ephemeralTs };
  const message = el.closest("[data-ts]");
  if (message) return { conv: message.dataset.conv, message_ts: message.dataset.ts };
  return {};
}

function confirmed(el) {
  if (!el.dataset.confirm) return true;
  try {
    const c = JSON.parse(el.dataset.confirm);
    const text = (c.title && c.title.text ? c.title.text + "\n\n" : "") + (c.text && c.text.text ? c.text.text : "");
    return window.confirm(text || "Are you sure?");
  } catch (error) {
    return window.confirm("Are you sure?");
  }
}

document.addEventListener("click", async (event) => {
  const el = event.target.closest("a, button");
  if (!el) {
    $("pg-shortcut-menu").hidden = true;
    $("pg-message-menu").hidden = true;
    return;
  }
  if (el.dataset.conv !== undefined && (el.closest("#pg-sidebar") || el.closest("#pg-tabs"))) {
    event.preventDefault();
    pg.conv = el.dataset.conv;
    pg.thread = null;
    localStorage.setItem("pg-conv", pg.conv);
    if (pg.conv === "home") await post("home", {});
    else await refresh();
    return;
  }
  if (el.classList.contains("pg-step")) {
    await post("advance", { step: el.dataset.step });
    return;
  }
  if (el.id === "pg-shortcuts") {
    $("pg-shortcut-menu").hidden = !$("pg-shortcut-menu").hidden;
    return;
  }
  if (el.dataset.shortcut) {
    $("pg-shortcut-menu").hidden = true;
    await post("shortcut", { callback_id: el.dataset.shortcut });
    return;
  }
  if (el.dataset.more !== undefined) {
    const menu = $("pg-message-menu");
    const message = el.closest("[data-ts]");
    menu.dataset.ts = message.dataset.ts;
    menu.dataset.conv = message.dataset.conv;
    const box = el.getBoundingClientRect();
    menu.style.top = box.bottom + window.scrollY + "px";
    menu.style.left = Math.max(8, box.right - 220) + "px";
    menu.hidden = false;
    return;
  }
  if (el.dataset.messageShortcut) {
    const menu = $("pg-message-menu");
    menu.hidden = true;
    await post("message_shortcut", {
      conv: menu.dataset.conv, message_ts: menu.dataset.ts, callback_id: el.dataset.messageShortcut,
    });
    return;
  }
  if (el.dataset.thread) {
    event.preventDefault();
    pg.thread = el.dataset.thread;
    await refresh();
    return;
  }
  if (el.id === "pg-thread-close") {
    pg.thread = null;
    await refresh();
    return;
  }
  if (el.dataset.type === "view_close" && el.closest(".pg-modal")) {
    event.preventDefault();
    await post("close", { view_id: el.closest(".pg-modal").dataset.viewId });
    return;
  }
  if (el.dataset.suggestion !== undefined) {
    const box = el.closest(".sk-external");
    const hidden = box.querySelector(".sk-external__value");
    hidden.value = el.dataset.value;
    hidden.dataset.label = el.textContent.trim();
    box.querySelector(".sk-external__query").value = el.textContent.trim();
    const list = box.querySelector(".sk-external__options");
    list.innerHTML = "";
    list.hidden = true;
    return;
  }
  if (el.dataset.actionId && el.tagName === "BUTTON") {
    event.preventDefault();
    if (!confirmed(el)) return;
    await post("click", { action: actionOf(el), ...where(el) });
  }
});

document.addEventListener("change", async (event) => {
  const el = event.target;
  if (el.id === "pg-person") {
    pg.user = el.value;
    localStorage.setItem("pg-user", pg.user);
    pg.thread = null;
    if (pg.conv === "home") await post("home", {});
    else await refresh();
    return;
  }
  // an element of an input block is read when its form is submitted; any other one acts at once
  const input = el.closest('[data-block-type="input"]');
  if (!el.dataset.actionId || (input && !input.dataset.dispatchAction)) return;
  await post("click", { action: actionOf(el), ...where(el) });
});

let suggestTimer = null;
document.addEventListener("input", (event) => {
  const el = event.target;
  const box = el.closest(".sk-external");
  if (!box || !el.classList.contains("sk-external__query")) return;
  const hidden = box.querySelector(".sk-external__value");
  hidden.value = "";
  delete hidden.dataset.label;
  clearTimeout(suggestTimer);
  suggestTimer = setTimeout(async () => {
    const min = parseInt(box.dataset.minQueryLength || "0", 10);
    const list = box.querySelector(".sk-external__options");
    if (el.value.length < min) { list.innerHTML = ""; list.hidden = true; return; }
    const modal = el.closest(".pg-modal");
    const [, blockId, actionId] = hidden.name.split("::");
    const response = await fetch("/api/suggest", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        user: pg.user, view_id: modal.dataset.viewId, block_id: blockId, action_id: actionId, query: el.value,
      }),
    });
    const data = await response.json();
    list.innerHTML = "";
    (data.options || []).forEach((option) => {
      const item = document.createElement("li");
      const pick = document.createElement("button");
      pick.type = "button";
      pick.className = "sk-menu__item";
      pick.dataset.suggestion = "";
      pick.dataset.value = option.value;
      pick.textContent = option.text;
      item.appendChild(pick);
      list.appendChild(item);
    });
    if (!(data.options || []).length) list.innerHTML = '<li class="pg-no-match">No matches</li>';
    list.hidden = false;
  }, 200);
});

document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!form.classList.contains("sk-modal")) return;
  event.preventDefault();
  const modal = form.closest(".pg-modal");
  await post("submit", { view_id: modal.dataset.viewId, form: formValues(modal) });
});

$("pg-composer").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("pg-input");
  const text = input.value.trim();
  if (!text) return;
  input.value = "";
  await post("command", { text });
});

document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && pg.modalId) post("close", { view_id: pg.modalId });
});

(async () => {
  const select = $("pg-person");
  if (pg.user && Array.from(select.options).some((o) => o.value === pg.user)) select.value = pg.user;
  pg.user = select.value;
  if (pg.conv === "home") await post("home", {});
  else await refresh();
  setInterval(() => { if (!pg.busy) refresh(); }, 2000);
})();
