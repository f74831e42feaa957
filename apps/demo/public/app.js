// SGENet demo page: plain ES module, no bundler. Talks to /api/deblur (@sgenet/express) and
// follows progress over Server-Sent Events at /api/progress/:jobId.
const $ = (id) => document.getElementById(id);
const els = {
  modelInfo: $('model-info'), limits: $('limits'), file: $('file'), drop: $('drop'), sample: $('sample'),
  format: $('format'), progress: $('progress'), status: $('status'), cancel: $('cancel'), error: $('error'),
  compare: $('compare'), frame: $('frame'), before: $('before'), after: $('after'), slider: $('slider'), download: $('download'),
};

/** The job in flight: its upload, its progress stream and the object URLs to free. */
let job = null;
const urls = [];

function setState(state) {
  document.body.dataset.state = state;
}
setState('idle');

function setProgress(percent, text) {
  els.progress.value = Math.max(0, Math.min(100, percent));
  if (text) els.status.textContent = text;
}

function showError(text) {
  els.error.textContent = text;
  els.error.hidden = false;
  els.cancel.hidden = true;
  setState('error');
}

function makeJobId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function objectUrl(blob) {
  const url = URL.createObjectURL(blob);
  urls.push(url);
  return url;
}

function freeUrls() {
  while (urls.length) URL.revokeObjectURL(urls.pop());
}

function formatBytes(n) {
  return n >= 1048576 ? `${(n / 1048576).toFixed(0)} MB` : `${(n / 1024).toFixed(0)} kB`;
}

async function loadInfo() {
  try {
    const res = await fetch('/api/info');
    const info = await res.json();
    if (!res.ok) throw new Error(info.error?.message ?? res.statusText);
    els.modelInfo.textContent =
      `Model ${info.model.name} ${info.model.version} on ${info.backend} (${info.provider}).` +
      (info.model.placeholder ? ' These are placeholder weights: results improve once trained weights ship.' : '');
    els.limits.textContent =
      `JPEG, PNG, WebP, GIF, TIFF, AVIF · up to ${formatBytes(info.limits.maxBytes)} and ${(info.limits.maxPixels / 1e6).toFixed(0)} megapixels`;
  } catch (err) {
    els.modelInfo.textContent = `The model is not available: ${err.message}`;
  }
}

/** Shows the input; asks the server for a preview when the browser cannot decode it (TIFF...). */
function showBefore(blob) {
  els.before.onerror = async () => {
    els.before.onerror = null;
    try {
      const res = await fetch('/api/preview', { method: 'POST', body: blob });
      if (res.ok) els.before.src = objectUrl(await res.blob());
    } catch {
      // the result still shows
    }
  };
  els.before.src = objectUrl(blob);
}

function onProgress(p) {
  if (!job || job.finished) return;
  switch (p.phase) {
    case 'queued':
      setProgress(10, `Waiting in line (position ${p.position})…`);
      break;
    case 'started':
      setProgress(12, 'Decoding…');
      break;
    case 'deblurring':
      setProgress(15 + (75 * p.done) / Math.max(1, p.total), `Deblurring: tile ${p.done} of ${p.total}…`);
      break;
    case 'encoding':
      setProgress(92, 'Encoding the result…');
      break;
    default:
      break;
  }
}

function filenameFrom(header, fallback) {
  const m = /filename="([^"]+)"/.exec(header ?? '');
  return m ? m[1] : fallback;
}

function finish() {
  if (!job) return;
  job.finished = true;
  // Let the last progress events arrive (they can trail the response), then stop listening.
  const events = job.events;
  setTimeout(() => events?.close(), 3000);
  els.cancel.hidden = true;
}

async function deblur(blob, name) {
  if (job) {
    job.xhr?.abort();
    finish();
    job.events?.close();
  }
  freeUrls();
  els.error.hidden = true;
  els.compare.hidden = true;
  els.slider.hidden = true;
  els.download.hidden = true;
  setState('working');
  setProgress(0, 'Uploading…');
  showBefore(blob);

  const jobId = makeJobId();
  const current = { jobId, finished: false, events: null, xhr: null, started: performance.now() };
  job = current;

  // Subscribe first, so no progress event is missed.
  const events = new EventSource(`/api/progress/${encodeURIComponent(jobId)}`);
  current.events = events;
  events.addEventListener('progress', (e) => {
    const p = JSON.parse(e.data);
    // Kept for anyone curious (and for the end-to-end test): every event this page received.
    (window.sgenetProgressLog ??= []).push(p);
    if (['done', 'failed', 'aborted'].includes(p.phase)) events.close(); // the server ends the stream too
    if (job === current) onProgress(p);
  });
  await new Promise((resolve) => {
    events.onopen = resolve;
    setTimeout(resolve, 1500);
  });
  if (job !== current) return;

  const form = new FormData();
  form.append('image', blob, name);
  const xhr = new XMLHttpRequest();
  current.xhr = xhr;
  xhr.open('POST', `/api/deblur?format=${encodeURIComponent(els.format.value)}`);
  xhr.responseType = 'blob';
  xhr.setRequestHeader('X-Job-Id', jobId);
  xhr.upload.onprogress = (e) => {
    if (e.lengthComputable && job === current) {
      setProgress((10 * e.loaded) / e.total, `Uploading… ${Math.round((100 * e.loaded) / e.total)}%`);
    }
  };
  xhr.onload = async () => {
    if (job !== current) return;
    finish();
    if (xhr.status === 200) {
      const result = xhr.response;
      const url = objectUrl(result);
      els.after.src = url;
      await els.after.decode().catch(() => {});
      els.compare.hidden = false;
      els.slider.hidden = false;
      els.download.href = url;
      els.download.download = filenameFrom(xhr.getResponseHeader('Content-Disposition'), `deblurred.${els.format.value}`);
      els.download.hidden = false;
      showKernel(jobId, xhr.getResponseHeader('X-Blur-Kernel'));
      const seconds = ((performance.now() - current.started) / 1000).toFixed(1);
      setProgress(100, `Done in ${seconds} s. Drag across the picture to compare.`);
      setState('done');
      return;
    }
    let message = `The server answered ${xhr.status}`;
    try {
      const body = JSON.parse(await xhr.response.text());
      if (body.error) message = `${body.error.message} (${body.error.code})`;
    } catch {
      // not JSON
    }
    const retry = xhr.getResponseHeader('Retry-After');
    if (xhr.status === 503 && retry) message += ` Try again in ${retry} s.`;
    setProgress(0, 'Failed.');
    showError(message);
  };
  xhr.onerror = () => {
    if (job !== current) return;
    finish();
    setProgress(0, 'Failed.');
    showError('The upload failed: is the server still running?');
  };
  xhr.onabort = () => {
    if (job !== current) return;
    finish();
    setProgress(0, 'Cancelled.');
    setState('idle');
  };
  els.cancel.hidden = false;
  xhr.send(form);
}

// Choosing, dropping and the sample.
els.file.addEventListener('change', () => {
  const file = els.file.files?.[0];
  if (file) void deblur(file, file.name);
  els.file.value = '';
});
for (const type of ['dragenter', 'dragover']) {
  els.drop.addEventListener(type, (e) => {
    e.preventDefault();
    els.drop.classList.add('over');
  });
}
for (const type of ['dragleave', 'drop']) {
  els.drop.addEventListener(type, () => els.drop.classList.remove('over'));
}
els.drop.addEventListener('drop', (e) => {
  e.preventDefault();
  const file = e.dataTransfer?.files?.[0];
  if (file) void deblur(file, file.name);
});
els.sample.addEventListener('click', async () => {
  els.sample.disabled = true;
  try {
    const res = await fetch('/api/sample.png');
    if (!res.ok) throw new Error(`sample: ${res.status}`);
    await deblur(await res.blob(), 'sgenet-sample.png');
  } catch (err) {
    showError(`Could not load the sample: ${err.message}`);
  } finally {
    els.sample.disabled = false;
  }
});
els.cancel.addEventListener('click', () => job?.xhr?.abort());

// The kernel the server deconvolved with, enlarged (GET /api/kernel/:jobId), beside before/after.
async function showKernel(jobId, header) {
  const figure = $('kernel-figure');
  figure.hidden = true;
  if (!header || header === 'none') {
    $('kernel-caption').textContent = 'No blur kernel found: the network alone restored this photo.';
    figure.hidden = false;
    $('kernel').hidden = true;
    return;
  }
  const res = await fetch(`/api/kernel/${encodeURIComponent(jobId)}`);
  if (!res.ok) return;
  $('kernel').src = objectUrl(await res.blob());
  $('kernel').hidden = false;
  $('kernel-caption').textContent = `Estimated blur kernel: ${header.replace('; confidence=', ', confidence ')} (enlarged)`;
  figure.hidden = false;
}

// The before/after divider: slider, or drag on the picture.
function setDivider(percent) {
  const p = Math.max(0, Math.min(100, percent));
  els.frame.style.setProperty('--pos', `${p}%`);
  els.slider.value = String(p);
}
els.slider.addEventListener('input', () => setDivider(Number(els.slider.value)));
els.frame.addEventListener('pointerdown', (e) => {
  els.frame.setPointerCapture(e.pointerId);
  const move = (ev) => {
    const r = els.frame.getBoundingClientRect();
    setDivider(((ev.clientX - r.left) / r.width) * 100);
  };
  move(e);
  els.frame.addEventListener('pointermove', move);
  els.frame.addEventListener('pointerup', () => els.frame.removeEventListener('pointermove', move), { once: true });
});
setDivider(50);

void loadInfo();
