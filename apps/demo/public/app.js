// SGENet demo page: plain ES module, no bundler. Talks to /api/deblur (@sgenet/express) and
// follows progress over Server-Sent Events at /api/progress/:jobId.
import { filenameFrom } from './filename.js';

const $ = (id) => document.getElementById(id);
const els = {
  modelInfo: $('model-info'), limits: $('limits'), file: $('file'), drop: $('drop'), sample: $('sample'),
  format: $('format'), progress: $('progress'), status: $('status'), stages: $('stages'), cancel: $('cancel'), error: $('error'),
  compare: $('compare'), viewport: $('viewport'), frame: $('frame'), before: $('before'), after: $('after'),
  afterLabel: $('after-label'), slider: $('slider'), zoom: $('zoom'), download: $('download'),
  kernelFigure: $('kernel-figure'), kernel: $('kernel'), kernelCaption: $('kernel-caption'), kernelNote: $('kernel-note'),
};

/**
 * The restoration stages core reports, in the order they run (each only when needed). Each owns a
 * fixed span of the bar: every stage counts its steps from 1 again, so mapping them all onto one
 * span (as "tile N of M") made the bar fall back when the next stage began. A stage that does not
 * run is jumped over.
 */
const STAGES = {
  kernel: { label: 'Estimating blur', unit: 'step', from: 15, to: 40 },
  deconvolve: { label: 'Deconvolving', unit: 'tile', from: 40, to: 65 },
  network: { label: 'Restoring', unit: 'tile', from: 65, to: 90 },
};
/** Progress from a server that does not name its stages. */
const ANY_STAGE = { label: 'Deblurring', unit: 'tile', from: 15, to: 90 };

/** The job in flight: its upload, its progress stream and the object URLs to free. */
let job = null;
const urls = [];

function setState(state) {
  document.body.dataset.state = state;
}
setState('idle');

/** The value the bar shows for the job in flight: it only grows until the next reset. */
let shown = 0;

/**
 * Moves the bar forward, never back: an event that arrives late (an upload progress event after
 * the server's first, a stage's first step) would otherwise pull it back. Such a stale event
 * changes neither the bar nor the text.
 */
function setProgress(percent, text) {
  const p = Math.max(0, Math.min(100, percent));
  if (p < shown) return;
  shown = p;
  els.progress.value = p;
  if (text) els.status.textContent = text;
}

/** Back to an empty bar: a new job, a failure or a cancel. */
function resetProgress(text) {
  shown = 0;
  els.progress.value = 0;
  els.status.textContent = text;
  showStages(new Map());
}

/** Marks each stage in the list: `active`, `done`, `skipped` (not needed for this photo) or nothing. */
function showStages(statuses) {
  for (const li of els.stages.children) {
    const status = statuses.get(li.dataset.stage) ?? '';
    li.dataset.status = status;
    if (status === 'active') li.setAttribute('aria-current', 'step');
    else li.removeAttribute('aria-current');
    // In words, not only in style, so screen readers get it too.
    li.querySelector('.note').textContent = status === 'done' ? ' (done)' : status === 'skipped' ? ' (not needed)' : '';
  }
}

/** The stage list while `current` runs: the stages before it ran (if seen) or were skipped. */
function stagesWhile(current, seen) {
  const order = Object.keys(STAGES);
  const at = order.indexOf(current);
  return new Map(order.map((s, i) => [s, i === at ? 'active' : i < at ? (seen.has(s) ? 'done' : 'skipped') : '']));
}

/**
 * The stage list of a finished job. Progress events can trail the response, so the server's
 * report of the stages the job ran decides; without one, the stages seen ran and the rest is unknown.
 */
function stagesAfter(seen, report) {
  return new Map(Object.keys(STAGES).map((s) => [s, report ? (report.stages.includes(s) ? 'done' : 'skipped') : seen.has(s) ? 'done' : '']));
}

function showError(text) {
  clearResult();
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
      `Model ${info.model.name} ${info.model.version}` +
      (info.model.withoutKernel && info.model.withoutKernel.name !== info.model.name
        ? ` (without blur: ${info.model.withoutKernel.name} ${info.model.withoutKernel.version})`
        : '') +
      ` on ${info.backend} (${info.provider}).` +
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
    case 'deblurring': {
      const stage = STAGES[p.stage] ?? ANY_STAGE;
      if (STAGES[p.stage]) {
        job.stages.add(p.stage);
        showStages(stagesWhile(p.stage, job.stages));
      }
      const share = p.total > 0 ? p.done / p.total : 0;
      setProgress(stage.from + (stage.to - stage.from) * share, `${stage.label}: ${stage.unit} ${p.done} of ${p.total}…`);
      break;
    }
    case 'encoding':
      setProgress(92, 'Encoding the result…');
      break;
    default:
      break;
  }
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
  clearResult();
  setState('working');
  resetProgress('Uploading…');
  showBefore(blob);

  const jobId = makeJobId();
  const current = { jobId, finished: false, events: null, xhr: null, started: performance.now(), stages: new Set() };
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
      const seconds = ((performance.now() - current.started) / 1000).toFixed(1);
      const url = objectUrl(xhr.response);
      els.after.src = url;
      // The verdict comes with the picture, not after it: no moment shows a result unexplained.
      const [report] = await Promise.all([fetchReport(jobId), els.after.decode().catch(() => {})]);
      if (job !== current) return;
      els.compare.hidden = false;
      els.slider.hidden = false;
      els.zoom.hidden = false;
      els.download.href = url;
      els.download.download = filenameFrom(xhr.getResponseHeader('Content-Disposition'), `deblurred.${els.format.value}`);
      els.download.hidden = false;
      showVerdict(jobId, report);
      showStages(stagesAfter(current.stages, report));
      setProgress(100, `Done in ${seconds} s. ${report ? `${SUMMARY[report.verdict]} ` : ''}Drag across the picture to compare.`);
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
    resetProgress('Failed.');
    showError(message);
  };
  xhr.onerror = () => {
    if (job !== current) return;
    finish();
    resetProgress('Failed.');
    showError('The upload failed: is the server still running?');
  };
  xhr.onabort = () => {
    if (job !== current) return;
    finish();
    resetProgress('Cancelled.');
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

// What the server found about the blur: core's verdict (GET /api/kernel/:jobId/verdict) in words,
// and the kernel it deconvolved with, enlarged (GET /api/kernel/:jobId), beside before/after.
/** The status line's last word on a result, by verdict. */
const SUMMARY = {
  none: 'No blur found: left as it was, denoised only.',
  confident: 'Blur found, confident.',
  uncertain: 'Blur found, but uncertain: compare with the original.',
};

/** The job's kernel report, or null when the server has none (the job is too old, or offline). */
async function fetchReport(jobId) {
  try {
    const res = await fetch(`/api/kernel/${encodeURIComponent(jobId)}/verdict`);
    return res.ok ? await res.json() : null;
  } catch {
    return null;
  }
}

function showVerdict(jobId, report) {
  if (!report) return; // the result still shows; there is just nothing to say about the blur
  const headline = report.text.charAt(0).toUpperCase() + report.text.slice(1);
  const confidence = `Confidence ${report.confidence.toFixed(2)} of 1: how much of the photo's blur the kernel explains (${report.confidentFrom.toFixed(2)} or more counts as confident).`;
  if (report.verdict === 'none') {
    els.kernelCaption.textContent = headline;
    els.kernelNote.textContent = 'The photo looked sharp, so it was left as it was: the network only removed noise.';
    els.afterLabel.textContent = 'After (denoised only) ▶';
  } else {
    els.kernel.src = `/api/kernel/${encodeURIComponent(jobId)}`;
    els.kernel.hidden = false;
    const grid = report.regions;
    els.kernelCaption.textContent = grid
      ? `${headline} (${grid.columns}x${grid.rows} grid of kernels; ${report.width}x${report.height} px for the photo as a whole)`
      : `${headline} (${report.width}x${report.height} px kernel)`;
    els.kernel.alt = grid
      ? `The blur kernels, one per region of the photo (${grid.columns} across, ${grid.rows} down)`
      : 'The blur kernel: the path the camera shook along';
    // A kernel kept below the confidence floor was kept on other evidence: say which, or the low
    // number would read as a contradiction of "blur found".
    const spectrum = report.keptBy === 'spectral-evidence' && report.spectralEvidence !== null
      ? ` It was kept because the photo lost its fine detail along this path and not across it (spectral evidence ${report.spectralEvidence.toFixed(2)} of 1).`
      : '';
    const regions = grid
      ? ` The shake was not the same everywhere: ${grid.own.filter(Boolean).length} of the ${grid.own.length} regions were deconvolved with a kernel of their own, shown in its place.`
      : '';
    els.kernelNote.textContent = report.verdict === 'confident'
      ? `${confidence} The photo was deconvolved with ${grid ? 'these kernels' : 'this kernel'}: the path the camera shook along, enlarged.${regions}`
      : `${confidence}${spectrum}${regions} The result may be only slightly sharper, or ring where the estimate is off.`;
  }
  els.kernelFigure.hidden = false;
}

/** Takes the previous result off the page: nothing of it may show beside a new job or an error. */
function clearResult() {
  els.compare.hidden = true;
  els.slider.hidden = true;
  els.zoom.hidden = true;
  els.download.hidden = true;
  els.kernelFigure.hidden = true;
  els.kernel.hidden = true;
  els.kernel.removeAttribute('src');
  els.kernelCaption.textContent = '';
  els.kernelNote.textContent = '';
  els.afterLabel.textContent = 'After ▶';
  // Each result starts unzoomed with the divider in the middle, not where the last one was left.
  setZoom(false);
  setDivider(50);
}
els.kernel.addEventListener('error', () => {
  els.kernel.hidden = true;
});

// The before/after divider: slider, or drag on the picture.
function setDivider(percent) {
  const p = Math.max(0, Math.min(100, percent));
  els.frame.style.setProperty('--pos', `${p}%`);
  els.slider.value = String(p);
}

// Zoom: a phone shows a photo at a fraction of its pixels, too small to judge sharpness. Zoomed,
// the frame is as wide as the photo's pixels (at least twice the view, so small photos magnify
// too) inside a scrolling view: a finger pans it, the slider moves the divider and keeps it in view.
let zoomed = false;

function setZoom(on, yFraction = 0.5) {
  zoomed = on;
  els.compare.classList.toggle('zoomed', on);
  // A toggle button keeps its label; aria-pressed (and its style) says whether it is on.
  els.zoom.setAttribute('aria-pressed', String(on));
  els.frame.style.width = on ? `${Math.max(els.after.naturalWidth, 2 * els.viewport.clientWidth)}px` : '';
  if (on) {
    followDivider();
    els.viewport.scrollTop = yFraction * els.frame.offsetHeight - els.viewport.clientHeight / 2;
  }
}

function followDivider() {
  if (!zoomed) return;
  els.viewport.scrollLeft = (Number(els.slider.value) / 100) * els.frame.offsetWidth - els.viewport.clientWidth / 2;
}

els.zoom.addEventListener('click', () => setZoom(!zoomed));
// Double-click or double-tap: the first click put the divider there, zooming centres on it.
els.frame.addEventListener('dblclick', (e) => {
  const r = els.frame.getBoundingClientRect();
  setZoom(!zoomed, (e.clientY - r.top) / r.height);
});
els.slider.addEventListener('input', () => {
  setDivider(Number(els.slider.value));
  followDivider();
});
els.frame.addEventListener('pointerdown', (e) => {
  // Zoomed, a finger pans the view (touch-action in style.css); the mouse still drags the divider.
  if (zoomed && e.pointerType !== 'mouse') return;
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
