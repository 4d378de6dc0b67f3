// What each modeler stamps on a file, and small helpers for the extension elements each one
// writes. The stamps are what the modelers themselves put in `exporter`/`exporterVersion`
// (SpiffArena's editor keeps the stamp of the diagram template it starts from).

import { readFileSync } from 'node:fs';
import { DmnModdle } from 'dmn-moddle';
import { Model, shortId } from './lib.mjs';

export const CAMUNDA_MODELER = '5.23.0';
export const C7_PLATFORM = ['Camunda Platform', '7.21.0'];
export const C8_PLATFORM = ['Camunda Cloud', '8.5.0'];
export const BPMN_JS = ['bpmn-js (https://demo.bpmn.io)', '17.9.1'];
export const SPIFF_TEMPLATE = ['Camunda Modeler', '3.0.0-dev'];

export const camunda7 = (name) => new Model(name, {
  exporter: 'Camunda Modeler', exporterVersion: CAMUNDA_MODELER,
  platform: C7_PLATFORM[0], platformVersion: C7_PLATFORM[1], extensions: ['camunda'],
});

export const camunda8 = (name) => new Model(name, {
  exporter: 'Camunda Modeler', exporterVersion: CAMUNDA_MODELER,
  platform: C8_PLATFORM[0], platformVersion: C8_PLATFORM[1], extensions: ['zeebe'],
});

export const bpmnio = (name) => new Model(name, { exporter: BPMN_JS[0], exporterVersion: BPMN_JS[1] });

export const spiffarena = (name) => new Model(name, {
  exporter: SPIFF_TEMPLATE[0], exporterVersion: SPIFF_TEMPLATE[1], extensions: ['spiffworkflow'],
});

// ---- Camunda 7 ------------------------------------------------------------------------

/** `camunda:formData` from `[{id, label, type, defaultValue, constraints, values, properties}]`. */
export function formData(m, fields) {
  return m.create('camunda:FormData', {
    fields: fields.map((f) => {
      const field = m.create('camunda:FormField', { id: f.id, label: f.label, type: f.type });
      if (f.defaultValue !== undefined) field.defaultValue = f.defaultValue;
      if (f.properties) {
        field.properties = m.create('camunda:Properties', {
          values: Object.entries(f.properties).map(([id, value]) => m.create('camunda:Property', { id, value })),
        });
      }
      if (f.constraints) {
        field.validation = m.create('camunda:Validation', {
          constraints: Object.entries(f.constraints).map(([name, config]) => (
            config === true ? m.create('camunda:Constraint', { name })
              : m.create('camunda:Constraint', { name, config: String(config) }))),
        });
      }
      if (f.values) field.values = f.values.map(([id, name]) => m.create('camunda:Value', { id, name }));
      return field;
    }),
  });
}

/** `camunda:properties` from an object. */
export const camundaProperties = (m, props) => m.create('camunda:Properties', {
  values: Object.entries(props).map(([name, value]) => m.create('camunda:Property', { name, value })),
});

/** `camunda:inputOutput` from input and output objects (name -> expression). */
export const inputOutput = (m, inputs, outputs = {}) => m.create('camunda:InputOutput', {
  inputParameters: Object.entries(inputs).map(([name, value]) => m.create('camunda:InputParameter', { name, value })),
  outputParameters: Object.entries(outputs).map(([name, value]) => m.create('camunda:OutputParameter', { name, value })),
});

// ---- Camunda 8 ------------------------------------------------------------------------

export const taskDefinition = (m, type, retries = '3') => m.create('zeebe:TaskDefinition', { type, retries });

export const ioMapping = (m, inputs, outputs = {}) => m.create('zeebe:IoMapping', {
  inputParameters: Object.entries(inputs).map(([target, source]) => m.create('zeebe:Input', { source, target })),
  outputParameters: Object.entries(outputs).map(([target, source]) => m.create('zeebe:Output', { source, target })),
});

export const taskHeaders = (m, headers) => m.create('zeebe:TaskHeaders', {
  values: Object.entries(headers).map(([key, value]) => m.create('zeebe:Header', { key, value })),
});

// ---- SpiffArena -----------------------------------------------------------------------

export const spiffProperties = (m, props) => m.create('spiffworkflow:Properties', {
  properties: Object.entries(props).map(([name, value]) => m.create('spiffworkflow:Property', { name, value })),
});

export const serviceOperator = (m, id, resultVariable, params) => m.create('spiffworkflow:ServiceTaskOperator', {
  id, resultVariable,
  parameterList: m.create('spiffworkflow:Parameters', {
    parameters: params.map(([pid, type, value]) => m.create('spiffworkflow:Parameter', { id: pid, type, value })),
  }),
});

export const spiffText = (m, kind, text) => m.create(`spiffworkflow:${kind}`, { text });

// ---- Camunda Forms (form-js) ----------------------------------------------------------

/** A `.form` document as Camunda Modeler writes it, with ids and rows derived from `seed`. */
export function camundaForm(seed, id, components, platform = C8_PLATFORM) {
  return {
    components: components.map((c, i) => ({
      ...c,
      id: `Field_${shortId(`${seed}:field:${i}`)}`,
      layout: { row: `Row_${shortId(`${seed}:row:${i}`)}`, columns: null },
    })),
    type: 'default',
    id,
    executionPlatform: platform[0],
    executionPlatformVersion: platform[1],
    exporter: { name: 'Camunda Modeler', version: CAMUNDA_MODELER },
    schemaVersion: 16,
  };
}

// ---- DMN ------------------------------------------------------------------------------

const dmnModeler = JSON.parse(readFileSync(new URL('node_modules/modeler-moddle/resources/dmn-modeler.json',
  import.meta.url), 'utf8'));

/**
 * A one-table DMN 1.3 document. `table` = {id, name, hitPolicy, inputs: [[label, expr, typeRef]],
 * outputs: [[label, name, typeRef]], rules: [[[...input cells], [...output cells], annotation?]]}.
 */
export async function decisionTable(seed, table, { exporter, exporterVersion, platform }) {
  const m = new DmnModdle({ modeler: dmnModeler });
  const sid = (kind, n) => `${kind}_${shortId(`${seed}:${kind}:${n}`)}`;
  const inputs = table.inputs.map(([label, text, typeRef], i) => m.create('dmn:InputClause', {
    id: sid('Input', i), label,
    inputExpression: m.create('dmn:LiteralExpression', { id: sid('InputExpression', i), typeRef, text }),
  }));
  const outputs = table.outputs.map(([label, name, typeRef], i) => m.create('dmn:OutputClause', {
    id: sid('Output', i), label, name, typeRef,
  }));
  const rules = table.rules.map(([ins, outs, note], r) => {
    const rule = m.create('dmn:DecisionRule', {
      id: sid('DecisionRule', r),
      inputEntry: ins.map((text, i) => m.create('dmn:UnaryTests', { id: sid('UnaryTests', `${r}.${i}`), text })),
      outputEntry: outs.map((text, i) => m.create('dmn:LiteralExpression', {
        id: sid('LiteralExpression', `${r}.${i}`), text,
      })),
    });
    if (note) rule.description = note;
    return rule;
  });
  const decision = m.create('dmn:Decision', {
    id: table.id, name: table.name,
    decisionLogic: m.create('dmn:DecisionTable', {
      id: sid('DecisionTable', 0), input: inputs, output: outputs, rule: rules,
      ...(table.hitPolicy ? { hitPolicy: table.hitPolicy } : {}),
    }),
  });
  const definitions = m.create('dmn:Definitions', {
    id: sid('Definitions', 0), name: 'DRD', namespace: 'http://camunda.org/schema/1.0/dmn',
    exporter, exporterVersion, drgElement: [decision],
    dmnDI: m.create('dmndi:DMNDI', {
      diagrams: [m.create('dmndi:DMNDiagram', {
        id: sid('DMNDiagram', 0),
        diagramElements: [m.create('dmndi:DMNShape', {
          id: sid('DMNShape', 0), dmnElementRef: decision,
          bounds: m.create('dc:Bounds', { height: 80, width: 180, x: 160, y: 100 }),
        })],
      })],
    }),
  });
  definitions.$attrs.xmlns = 'https://www.omg.org/spec/DMN/20191111/MODEL/';
  if (platform) {
    definitions.set('modeler:executionPlatform', platform[0]);
    definitions.set('modeler:executionPlatformVersion', platform[1]);
  }
  const { xml } = await m.toXML(definitions, { format: true });
  return xml;
}
