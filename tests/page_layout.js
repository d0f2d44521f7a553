// The layout checks of tests/test_pages_browser.py, run in each page: returns a list of problems.
// Boxes are compared in page coordinates.
() => {
  const out = [];
  const vw = document.documentElement.clientWidth;
  const name = (el) => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += '#' + el.id;
    const cls = [...el.classList].slice(0, 3).join('.');
    if (cls) s += '.' + cls;
    const text = (el.innerText || '').trim().split('\n')[0].slice(0, 40);
    return text ? `${s} "${text}"` : s;
  };
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    if (r.width < 2 || r.height < 2) return false;
    const cs = getComputedStyle(el);
    return cs.visibility !== 'hidden' && cs.display !== 'none';
  };
  const scrolls = (el) => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
  const inScroller = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) if (scrolls(p)) return true;
    return false;
  };
  // 1. the document
  const docWidth = document.documentElement.scrollWidth;
  if (docWidth > vw + 1) {
    const wide = [...document.querySelectorAll('body *')].filter(
      (el) => visible(el) && !inScroller(el) && el.getBoundingClientRect().right > vw + 1);
    const leaf = wide.filter((el) => !wide.some((o) => o !== el && el.contains(o))).slice(0, 3).map(name);
    out.push(`document is ${docWidth}px wide in a ${vw}px window (widest: ${leaf.join('; ')})`);
  }
  // 2. cards: inside the window, their content inside them
  const cards = [...document.querySelectorAll('main .card, main .chart-card, main dialog[open]')].filter(visible);
  for (const card of cards) {
    if (inScroller(card)) continue;
    const r = card.getBoundingClientRect();
    if (r.left < -1 || r.right > vw + 1) out.push(`card outside the window (${Math.round(r.left)}..${Math.round(r.right)}px): ${name(card)}`);
    if (card.scrollWidth > card.clientWidth + 2 && !scrolls(card)) out.push(`content overflows its card by ${card.scrollWidth - card.clientWidth}px: ${name(card)}`);
  }
  // 3. chart and card boxes drawn over each other (nested boxes are fine)
  const boxes = [...document.querySelectorAll('main .card, main .chart-card, main .uplot, main .u-legend, main canvas, main svg.chart, main .chart, main .chart-big')]
    .filter(visible);
  const rects = boxes.map((el) => { const r = el.getBoundingClientRect(); return [r.left + scrollX, r.top + scrollY, r.right + scrollX, r.bottom + scrollY]; });
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i], b = boxes[j];
      if (a.contains(b) || b.contains(a)) continue;
      const [l1, t1, r1, b1] = rects[i], [l2, t2, r2, b2] = rects[j];
      const w = Math.min(r1, r2) - Math.max(l1, l2), h = Math.min(b1, b2) - Math.max(t1, t2);
      if (w > 2 && h > 2) out.push(`${name(a)} and ${name(b)} overlap (${Math.round(w)}×${Math.round(h)}px)`);
    }
  }
  // 4. table cells too narrow: a word broken inside a cell, or content spilling out of it
  const canvas = document.createElement('canvas').getContext('2d');
  for (const cell of document.querySelectorAll('main td, main th')) {
    if (!visible(cell)) continue;
    const cs = getComputedStyle(cell);
    const inner = cell.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
    if (cell.scrollWidth > cell.clientWidth + 2 && cs.overflowX === 'visible') {
      out.push(`content spills out of a table cell (${cell.scrollWidth}px in ${cell.clientWidth}px): ${name(cell)}`);
      continue;
    }
    // words as the browser may break them without harm: at spaces, commas, dashes, braces, "=", "/"
    const words = (cell.innerText || '').split(/[\s,;:=/{}()\[\]–—-]+/).filter((w) => w.length > 1 && w.length <= 24);
    if (!words.length) continue;
    canvas.font = `${cs.fontStyle} ${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
    const widest = Math.max(...words.map((w) => canvas.measureText(w).width));
    if (widest > inner + 2) out.push(`table cell ${Math.round(inner)}px wide breaks a ${Math.round(widest)}px word: ${name(cell)}`);
  }
  return out;
}
