// Builds BPMN moddle trees the way the modelers hold them, lays them out left to right and
// adds the diagram interchange (shapes, edges) so every file opens in a modeler.
//
// Ids: element ids an analyst would have renamed (tasks, events, gateways) are given by the
// model; the rest (flows, definitions, event definitions) follow the modelers' own
// `<Kind>_<7 chars>` shape, derived from a hash so that a rebuild is byte-for-byte the same.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { BpmnModdle } from 'bpmn-moddle';

const here = new URL('.', import.meta.url);
const descriptor = (path) => JSON.parse(readFileSync(new URL(path, here), 'utf8'));

export const EXTENSIONS = {
  camunda: descriptor('node_modules/camunda-bpmn-moddle/resources/camunda.json'),
  zeebe: descriptor('node_modules/zeebe-bpmn-moddle/resources/zeebe.json'),
  modeler: descriptor('node_modules/modeler-moddle/resources/modeler.json'),
  spiffworkflow: descriptor('spiffworkflow.json'),
};

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** A modeler-style id suffix (7 base-36 characters) that depends only on `seed`. */
export function shortId(seed) {
  const digest = createHash('sha256').update(seed).digest();
  let out = '';
  for (let i = 0; i < 7; i++) out += ALPHABET[digest[i] % 36];
  return out;
}

const SIZE = {
  event: { width: 36, height: 36 },
  gateway: { width: 50, height: 50 },
  task: { width: 100, height: 80 },
};
const GAP_X = 60;
const GAP_Y = 60;
const PAD = 40;

function kindOf(type) {
  if (/Event$/.test(type)) return 'event';
  if (/Gateway$/.test(type)) return 'gateway';
  return 'task';
}

/** A process or (embedded/event) subprocess being filled with nodes and flows. */
export class Container {
  constructor(model, element, seed) {
    this.model = model;
    this.moddle = model.moddle;
    this.element = element;
    this.seed = seed;
    this.nodes = [];
    this.boundaries = [];
    this.flows = [];
    this.element.flowElements = this.element.flowElements || [];
  }

  /** Adds a flow node of `type` (e.g. 'bpmn:UserTask'); `ext` are extension elements. */
  node(type, id, props = {}, ext = []) {
    const element = this.moddle.create(type, { id, ...props });
    if (ext.length) element.extensionElements = this.moddle.create('bpmn:ExtensionElements', { values: ext });
    this.element.flowElements.push(element);
    this.nodes.push(element);
    return element;
  }

  /** Adds a boundary event on `host` (a node id). */
  boundary(id, host, props = {}, ext = []) {
    const attachedToRef = this.get(host);
    const element = this.node('bpmn:BoundaryEvent', id, { attachedToRef, ...props }, ext);
    this.nodes.pop();
    this.boundaries.push(element);
    return element;
  }

  /** Adds an expanded embedded subprocess and returns its container. */
  sub(id, props = {}, ext = []) {
    const element = this.node('bpmn:SubProcess', id, props, ext);
    const inner = new Container(this.model, element, `${this.seed}/${id}`);
    element.$inner = inner;
    return inner;
  }

  get(id) {
    const found = this.element.flowElements.find((e) => e.id === id);
    if (!found) throw new Error(`${this.seed}: no element '${id}'`);
    return found;
  }

  /** Connects two nodes; `condition` is the expression text, `isDefault` marks the source's default. */
  flow(source, target, { id, name, condition, isDefault } = {}) {
    const sourceRef = this.get(source);
    const targetRef = this.get(target);
    const flowId = id || `Flow_${shortId(`${this.seed}:${source}->${target}`)}`;
    const flow = this.moddle.create('bpmn:SequenceFlow', { id: flowId, sourceRef, targetRef });
    if (name) flow.name = name;
    if (condition !== undefined) {
      flow.conditionExpression = this.moddle.create('bpmn:FormalExpression', { body: condition });
    }
    this.element.flowElements.push(flow);
    this.flows.push(flow);
    (sourceRef.outgoing = sourceRef.outgoing || []).push(flow);
    (targetRef.incoming = targetRef.incoming || []).push(flow);
    if (isDefault) sourceRef.default = flow;
    return flow;
  }

  /** Chains `ids` with unconditional flows. */
  chain(...ids) {
    for (let i = 1; i < ids.length; i++) this.flow(ids[i - 1], ids[i]);
  }
}

/** One definitions document: processes, root elements (messages, errors...) and the diagram. */
export class Model {
  constructor(name, { exporter, exporterVersion, platform, platformVersion, extensions = [] }) {
    const packages = {};
    for (const key of extensions) packages[key] = EXTENSIONS[key];
    if (platform) packages.modeler = EXTENSIONS.modeler;
    this.moddle = new BpmnModdle(packages);
    this.name = name;
    this.definitions = this.moddle.create('bpmn:Definitions', {
      id: `Definitions_${shortId(name)}`,
      targetNamespace: 'http://bpmn.io/schema/bpmn',
      exporter,
      exporterVersion,
      rootElements: [],
    });
    if (platform) {
      this.definitions.set('modeler:executionPlatform', platform);
      this.definitions.set('modeler:executionPlatformVersion', platformVersion);
    }
    this.processes = [];
    this.collaboration = null;
    this.roots = [];
  }

  create(type, props = {}) {
    return this.moddle.create(type, props);
  }

  /** A new id of the modeler's shape for an element the analyst never names. */
  id(kind, seed) {
    return `${kind}_${shortId(`${this.name}:${kind}:${seed}`)}`;
  }

  process(id, props = {}, ext = []) {
    const element = this.create('bpmn:Process', { id, isExecutable: true, ...props });
    if (ext.length) element.extensionElements = this.create('bpmn:ExtensionElements', { values: ext });
    const container = new Container(this, element, `${this.name}/${id}`);
    this.processes.push(container);
    return container;
  }

  /** Adds a root element (message, error, signal, escalation, correlation property). */
  root(type, props) {
    const element = this.create(type, props);
    this.roots.push(element);
    return element;
  }

  /** Wraps the first process in a pool, as a model with message correlation keys needs. */
  pool(id, participantId, name, props = {}) {
    const participant = this.create('bpmn:Participant', {
      id: participantId, name, processRef: this.processes[0].element,
    });
    this.collaboration = this.create('bpmn:Collaboration', { id, participants: [participant], ...props });
    return this.collaboration;
  }

  /** Event definition of `type` with a modeler-style id. */
  event(type, props = {}) {
    const short = type.replace('bpmn:', '');
    return this.create(type, { id: this.id(short, JSON.stringify(Object.keys(props)) + this.seq()), ...props });
  }

  seq() {
    this.counter = (this.counter || 0) + 1;
    return String(this.counter);
  }

  expression(body) {
    return this.create('bpmn:FormalExpression', { body });
  }

  async toXML() {
    const rootElements = [];
    if (this.collaboration) rootElements.push(this.collaboration);
    rootElements.push(...this.processes.map((p) => p.element), ...this.roots);
    this.definitions.rootElements = rootElements;
    this.definitions.diagrams = [diagram(this)];
    const { xml } = await this.moddle.toXML(this.definitions, { format: true });
    return xml;
  }
}

// ---- layout ---------------------------------------------------------------------------

function sizeOf(element) {
  if (element.$inner) return element.$inner.$size;
  return SIZE[kindOf(element.$type)];
}

/** Columns by longest forward path from the sources; back edges (loops) are ignored. */
function columns(container) {
  const successors = new Map(container.nodes.map((n) => [n, []]));
  for (const flow of container.flows) {
    const source = flow.sourceRef.$type === 'bpmn:BoundaryEvent' ? flow.sourceRef.attachedToRef : flow.sourceRef;
    if (successors.has(source) && successors.has(flow.targetRef)) successors.get(source).push(flow.targetRef);
  }
  const column = new Map();
  const onStack = new Set();
  const visit = (node, depth) => {
    if (onStack.has(node)) return;
    if (column.has(node) && column.get(node) >= depth) return;
    column.set(node, depth);
    onStack.add(node);
    for (const next of successors.get(node)) visit(next, depth + 1);
    onStack.delete(node);
  };
  const hasIncoming = new Set();
  for (const list of successors.values()) for (const n of list) hasIncoming.add(n);
  const main = container.nodes.filter((n) => !n.triggeredByEvent);
  for (const node of main) if (!hasIncoming.has(node)) visit(node, 0);
  for (const node of main) if (!column.has(node)) visit(node, 0);
  return column;
}

function layout(container) {
  for (const node of container.nodes) if (node.$inner) layout(node.$inner);
  const column = columns(container);
  const main = container.nodes.filter((n) => !n.triggeredByEvent);
  const eventSubs = container.nodes.filter((n) => n.triggeredByEvent);
  const row = new Map();
  const taken = new Set();
  for (const node of [...main].sort((a, b) => column.get(a) - column.get(b))) {
    const preferred = [...(node.incoming || [])]
      .map((f) => (f.sourceRef.$type === 'bpmn:BoundaryEvent' ? null : row.get(f.sourceRef)))
      .find((r) => r !== undefined && r !== null);
    const fromBoundary = (node.incoming || []).some((f) => f.sourceRef.$type === 'bpmn:BoundaryEvent');
    let r = fromBoundary ? (row.get((node.incoming[0].sourceRef.attachedToRef)) ?? 0) + 1 : (preferred ?? 0);
    while (taken.has(`${column.get(node)}:${r}`)) r += 1;
    taken.add(`${column.get(node)}:${r}`);
    row.set(node, r);
  }
  const ncol = Math.max(0, ...main.map((n) => column.get(n))) + 1;
  const nrow = Math.max(0, ...main.map((n) => row.get(n))) + 1;
  const colWidth = Array(ncol).fill(0);
  const rowHeight = Array(nrow).fill(0);
  for (const node of main) {
    const { width, height } = sizeOf(node);
    colWidth[column.get(node)] = Math.max(colWidth[column.get(node)], width);
    rowHeight[row.get(node)] = Math.max(rowHeight[row.get(node)], height);
  }
  const colX = [];
  let x = PAD;
  for (const w of colWidth) { colX.push(x); x += w + GAP_X; }
  const rowY = [];
  let y = PAD;
  for (const h of rowHeight) { rowY.push(y); y += h + GAP_Y; }
  const place = new Map();
  for (const node of main) {
    const { width, height } = sizeOf(node);
    const c = column.get(node);
    const r = row.get(node);
    place.set(node, {
      x: colX[c] + Math.round((colWidth[c] - width) / 2),
      y: rowY[r] + Math.round((rowHeight[r] - height) / 2),
      width, height,
    });
  }
  let width = x - GAP_X + PAD;
  for (const node of eventSubs) {
    const size = sizeOf(node);
    place.set(node, { x: PAD, y, ...size });
    y += size.height + GAP_Y;
    width = Math.max(width, PAD + size.width + PAD);
  }
  const perHost = new Map();
  for (const b of container.boundaries) {
    const host = place.get(b.attachedToRef);
    const k = perHost.get(b.attachedToRef) || 0;
    perHost.set(b.attachedToRef, k + 1);
    place.set(b, { x: host.x + host.width - 36 - 4 - k * 46, y: host.y + host.height - 18, width: 36, height: 36 });
  }
  container.$place = place;
  container.$size = { width: Math.max(width, 200), height: Math.max(y - GAP_Y + PAD, 140) };
}

function offsetAll(container, dx, dy, out) {
  for (const [node, p] of container.$place) {
    const abs = { x: p.x + dx, y: p.y + dy, width: p.width, height: p.height };
    out.set(node, abs);
    if (node.$inner) offsetAll(node.$inner, abs.x, abs.y, out);
  }
}

function waypoints(flow, at) {
  const s = at.get(flow.sourceRef);
  const t = at.get(flow.targetRef);
  const sy = s.y + s.height / 2;
  const ty = t.y + t.height / 2;
  if (flow.sourceRef.$type === 'bpmn:BoundaryEvent') {
    const sx = s.x + s.width / 2;
    return [[sx, s.y + s.height], [sx, ty], [t.x, ty]];
  }
  if (t.x <= s.x) {
    const below = Math.max(s.y + s.height, t.y + t.height) + 30;
    const sx = s.x + s.width / 2;
    const tx = t.x + t.width / 2;
    return [[sx, s.y + s.height], [sx, below], [tx, below], [tx, t.y + t.height]];
  }
  const sx = s.x + s.width;
  if (sy === ty) return [[sx, sy], [t.x, ty]];
  const mid = Math.round((sx + t.x) / 2);
  return [[sx, sy], [mid, sy], [mid, ty], [t.x, ty]];
}

function allFlows(container) {
  const flows = [...container.flows];
  for (const node of container.nodes) if (node.$inner) flows.push(...allFlows(node.$inner));
  return flows;
}

function diagram(model) {
  const m = model.moddle;
  const at = new Map();
  const planeElements = [];
  let top = 80;
  const poolShapes = [];
  for (const proc of model.processes) {
    layout(proc);
    const left = model.collaboration ? 190 : 120;
    offsetAll(proc, left, top, at);
    if (model.collaboration) {
      const participant = model.collaboration.participants.find((p) => p.processRef === proc.element);
      poolShapes.push(m.create('bpmndi:BPMNShape', {
        id: `${participant.id}_di`, bpmnElement: participant, isHorizontal: true,
        bounds: m.create('dc:Bounds', { x: left - 30, y: top, width: proc.$size.width + 30, height: proc.$size.height }),
      }));
    }
    top += proc.$size.height + 40;
  }
  planeElements.push(...poolShapes);
  for (const [node, p] of at) {
    const props = {
      id: `${node.id}_di`, bpmnElement: node,
      bounds: m.create('dc:Bounds', { x: p.x, y: p.y, width: p.width, height: p.height }),
    };
    if (node.$type === 'bpmn:ExclusiveGateway') props.isMarkerVisible = true;
    if (node.$inner) props.isExpanded = true;
    const shape = m.create('bpmndi:BPMNShape', props);
    if (node.name && kindOf(node.$type) !== 'task') {
      const width = Math.min(120, Math.max(40, node.name.length * 6));
      shape.label = m.create('bpmndi:BPMNLabel', {
        bounds: m.create('dc:Bounds', { x: Math.round(p.x + p.width / 2 - width / 2), y: p.y + p.height + 7, width, height: 14 }),
      });
    }
    planeElements.push(shape);
  }
  for (const proc of model.processes) {
    for (const flow of allFlows(proc)) {
      planeElements.push(m.create('bpmndi:BPMNEdge', {
        id: `${flow.id}_di`, bpmnElement: flow,
        waypoint: waypoints(flow, at).map(([x, y]) => m.create('dc:Point', { x, y })),
      }));
    }
  }
  const plane = m.create('bpmndi:BPMNPlane', {
    id: 'BPMNPlane_1',
    bpmnElement: model.collaboration || model.processes[0].element,
    planeElement: planeElements,
  });
  return m.create('bpmndi:BPMNDiagram', { id: 'BPMNDiagram_1', plane });
}
