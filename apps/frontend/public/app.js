// The todo page. Talks only to /api/* on its own origin; the server adds the session user.
// Every piece of user text goes into the page through textContent, never as HTML.
'use strict';

const el = (id) => document.getElementById(id);
const list = el('todos');
const empty = el('empty');
const summary = el('summary');
const errorBox = el('error');
const addForm = el('add-form');
const titleInput = el('new-title');
const chatForm = el('chat-form');
const chatInput = el('chat-message');
const chatLog = el('chat-log');

let todos = [];

async function api(method, path, body) {
  const res = await fetch(`/api${path}`, {
    method,
    headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!res.ok) {
    const reason = data && typeof data.error === 'string' ? data.error : `The server answered ${res.status}.`;
    throw new Error(reason);
  }
  return data;
}

function showError(message) {
  errorBox.textContent = message;
  errorBox.hidden = !message;
}

function render() {
  list.replaceChildren(...todos.map(renderTodo));
  empty.hidden = todos.length > 0;
  const done = todos.filter((t) => t.completed).length;
  summary.textContent = todos.length ? `${done} of ${todos.length} done` : '';
}

function renderTodo(todo) {
  const li = document.createElement('li');
  li.dataset.id = String(todo.id);
  li.className = todo.completed ? 'done' : '';

  const label = document.createElement('label');
  const box = document.createElement('input');
  box.type = 'checkbox';
  box.checked = Boolean(todo.completed);
  box.addEventListener('change', () => setCompleted(todo, box.checked, box));
  const title = document.createElement('span');
  title.className = 'title';
  title.textContent = todo.title;
  label.append(box, title);

  const del = document.createElement('button');
  del.type = 'button';
  del.className = 'delete';
  del.textContent = '×';
  del.title = 'Delete';
  del.setAttribute('aria-label', `Delete ${todo.title}`);
  del.addEventListener('click', () => remove(todo, del));

  li.append(label, del);
  return li;
}

async function load() {
  try {
    const data = await api('GET', '/todos');
    todos = Array.isArray(data) ? data : [];
    showError('');
    render();
  } catch (err) {
    showError(`Could not load your todos: ${err.message}`);
  }
}

async function setCompleted(todo, completed, box) {
  box.disabled = true;
  try {
    const updated = completed
      ? await api('POST', `/todos/${encodeURIComponent(todo.id)}/complete`)
      : await api('PATCH', `/todos/${encodeURIComponent(todo.id)}`, { completed: false });
    todos = todos.map((t) => (t.id === todo.id ? { ...t, ...(updated || { completed }) } : t));
    showError('');
    render();
  } catch (err) {
    box.checked = !completed;
    box.disabled = false;
    showError(`Could not update “${todo.title}”: ${err.message}`);
  }
}

async function remove(todo, button) {
  button.disabled = true;
  try {
    await api('DELETE', `/todos/${encodeURIComponent(todo.id)}`);
    todos = todos.filter((t) => t.id !== todo.id);
    showError('');
    render();
  } catch (err) {
    button.disabled = false;
    showError(`Could not delete “${todo.title}”: ${err.message}`);
  }
}

addForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const title = titleInput.value.trim();
  if (!title) return;
  const button = addForm.querySelector('button');
  button.disabled = true;
  try {
    const created = await api('POST', '/todos', { title });
    todos = [...todos, created];
    titleInput.value = '';
    showError('');
    render();
  } catch (err) {
    showError(`Could not add the todo: ${err.message}`);
  } finally {
    button.disabled = false;
    titleInput.focus();
  }
});

function say(kind, text) {
  const li = document.createElement('li');
  li.className = kind;
  li.textContent = text;
  chatLog.append(li);
  chatLog.scrollTop = chatLog.scrollHeight;
}

chatForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const message = chatInput.value.trim();
  if (!message) return;
  const button = chatForm.querySelector('button');
  button.disabled = true;
  say('user', message);
  chatInput.value = '';
  try {
    const data = await api('POST', '/chat', { message });
    say('assistant', data && typeof data.reply === 'string' ? data.reply : '(no reply)');
    // The assistant may have changed the list through its tools.
    if (data && Array.isArray(data.actions) && data.actions.length > 0) await load();
  } catch (err) {
    say('failed', err.message);
  } finally {
    button.disabled = false;
    chatInput.focus();
  }
});

load();
