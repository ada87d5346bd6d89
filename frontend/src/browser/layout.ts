/**
 * Layout checks run inside the harness page: what a user notices as broken
 * is a label whose text runs onto a second line, or any field drawn over
 * another one.
 */

/** A field's label: its title (no description) and where the title's text is drawn. */
interface FieldLabel {
  title: string;
  /** One rectangle per line box of the title's text. */
  lines: DOMRect[];
  /** The smallest element holding both the label and its control. */
  field: Element;
}

/** @grafana/ui's Field puts its description inside the label, in a span of this (emotion) class. */
const DESCRIPTION = '[class*="-Label-description"]';

function isRadioOption(label: HTMLLabelElement): boolean {
  return label.previousElementSibling?.matches('input[type="radio"]') ?? false;
}

/** The text nodes of the label's title, without its description. */
function titleText(label: HTMLLabelElement): Text[] {
  const walker = document.createTreeWalker(label, NodeFilter.SHOW_TEXT);
  const nodes: Text[] = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.parentElement?.closest(DESCRIPTION) && node.textContent?.trim()) {
      nodes.push(node as Text);
    }
  }
  return nodes;
}

/** The lines the text is laid out on: rectangles of one line share their vertical middle. */
function lineBoxes(nodes: Text[]): DOMRect[] {
  const range = document.createRange();
  const lines = new Map<number, DOMRect>();
  for (const node of nodes) {
    range.selectNodeContents(node);
    for (const rect of range.getClientRects()) {
      if (rect.width > 0) {
        lines.set(Math.round(rect.top + rect.height / 2), rect);
      }
    }
  }
  return [...lines.values()];
}

/** The label's field: up to the element holding its control, or the label's parent for a control without id. */
function fieldOf(label: HTMLLabelElement): Element | null {
  const control = label.htmlFor ? document.getElementById(label.htmlFor) : null;
  let field = label.parentElement;
  while (control && field && !field.contains(control)) {
    field = field.parentElement;
  }
  return field;
}

/** The labels of the fields on screen, in document order (radio options are parts of a field, not fields). */
export function fieldLabels(root: Element = document.body): FieldLabel[] {
  const labels: FieldLabel[] = [];
  for (const label of root.querySelectorAll('label')) {
    const field = fieldOf(label);
    const nodes = titleText(label);
    if (!field || nodes.length === 0 || isRadioOption(label) || label.getClientRects().length === 0) {
      continue;
    }
    labels.push({
      title: nodes
        .map((n) => n.textContent)
        .join('')
        .trim(),
      lines: lineBoxes(nodes),
      field,
    });
  }
  return labels;
}

function intersects(a: DOMRect, b: DOMRect): boolean {
  // Half a pixel of tolerance: neighbours that touch do not overlap.
  const slack = 0.5;
  return a.left < b.right - slack && b.left < a.right - slack && a.top < b.bottom - slack && b.top < a.bottom - slack;
}

function describe(element: Element): string {
  return element.textContent?.trim().slice(0, 40) ?? element.tagName;
}

/** Every wrapped label and every overlap on the page, as sentences; empty when the layout is sound. */
export function layoutProblems(root: Element = document.body): string[] {
  const problems: string[] = [];
  const labels = fieldLabels(root);
  // Fields and the other blocks a label's text must not run into.
  const blocks = [
    ...new Set([...labels.map((l) => l.field), ...root.querySelectorAll('legend, [data-testid="query-preview"]')]),
  ];
  for (const label of labels) {
    if (label.lines.length > 1) {
      problems.push(`label "${label.title}" wraps onto ${label.lines.length} lines`);
    }
    for (const line of label.lines) {
      for (const block of blocks) {
        if (
          !block.contains(label.field) &&
          !label.field.contains(block) &&
          intersects(line, block.getBoundingClientRect())
        ) {
          problems.push(`label "${label.title}" overlaps "${describe(block)}"`);
        }
      }
    }
  }
  for (const [i, a] of blocks.entries()) {
    for (const b of blocks.slice(i + 1)) {
      if (!a.contains(b) && !b.contains(a) && intersects(a.getBoundingClientRect(), b.getBoundingClientRect())) {
        problems.push(`"${describe(a)}" overlaps "${describe(b)}"`);
      }
    }
  }
  return problems;
}
