// SpiffArena models (bpmn-js-spiffworkflow): Python everywhere, spiffworkflow:* extensions,
// JSON Schema forms in files next to the diagram.

import {
  SPIFF_TEMPLATE, decisionTable, serviceOperator, spiffProperties, spiffText, spiffarena,
} from '../dialects.mjs';

const DIR = 'spiffarena';

async function scriptTasks() {
  const m = spiffarena('spiff_script_tasks');
  const p = m.process('spiff_script_tasks', { name: 'Fee with scripts' });
  p.node('bpmn:StartEvent', 'start');
  p.node('bpmn:ScriptTask', 'base_fee', { name: 'Base fee', scriptFormat: 'python',
    script: 'fee = 100000 * floors\nif area > 500:\n    fee = fee * 2' });
  p.node('bpmn:ManualTask', 'show_fee', { name: 'Show the fee' }, [
    spiffText(m, 'InstructionsForEndUser', 'The fee for {{ floors }} floors is {{ fee }} rial.'),
    spiffText(m, 'PreScript', 'fee_text = str(fee) + " rial"'),
    spiffText(m, 'PostScript', 'shown = True'),
  ]);
  p.node('bpmn:ExclusiveGateway', 'fee_gw', { name: 'Large fee?' });
  p.node('bpmn:ScriptTask', 'discount', { name: 'Apply a discount', scriptFormat: 'python',
    script: 'fee = fee - fee // 10' });
  p.node('bpmn:EndEvent', 'end');
  p.node('bpmn:ExclusiveGateway', 'merge');
  p.chain('start', 'base_fee', 'show_fee', 'fee_gw');
  p.flow('fee_gw', 'discount', { condition: 'fee > 500000' });
  p.flow('fee_gw', 'merge', { isDefault: true });
  p.flow('discount', 'merge');
  p.flow('merge', 'end');
  return m.toXML();
}

async function serviceTasks() {
  const m = spiffarena('spiff_service_operator');
  const p = m.process('spiff_service_operator', { name: 'Registry and post lookups' });
  p.node('bpmn:StartEvent', 'start');
  p.node('bpmn:ServiceTask', 'fetch_person', { name: 'Fetch the person' }, [
    serviceOperator(m, 'civil_registry/person_by_national_code', 'person',
      [['national_code', 'str', 'national_code']]),
  ]);
  p.node('bpmn:ServiceTask', 'fetch_address', { name: 'Fetch the address' }, [
    serviceOperator(m, 'post/address_by_postal_code', 'address', [['postal_code', 'str', 'person["postal_code"]']]),
    spiffText(m, 'PostScript', 'city = address["city"]'),
  ]);
  p.node('bpmn:EndEvent', 'end');
  p.chain('start', 'fetch_person', 'fetch_address', 'end');
  return m.toXML();
}

async function jsonSchemaForm() {
  const m = spiffarena('spiff_json_schema_form');
  const p = m.process('spiff_json_schema_form', { name: 'Applicant details (JSON Schema form)' });
  p.node('bpmn:StartEvent', 'start');
  p.node('bpmn:UserTask', 'applicant', { name: 'Applicant details' }, [
    spiffProperties(m, {
      formJsonSchemaFilename: 'applicant-schema.json',
      formUiSchemaFilename: 'applicant-uischema.json',
    }),
    spiffText(m, 'InstructionsForEndUser', 'Tell us who is applying.'),
  ]);
  p.node('bpmn:ScriptTask', 'greet', { name: 'Prepare the greeting', scriptFormat: 'python',
    script: 'greeting = "Dear " + first_name' });
  p.node('bpmn:EndEvent', 'end');
  p.chain('start', 'applicant', 'greet', 'end');
  return m.toXML();
}

const applicantSchema = () => ({
  title: 'Applicant',
  type: 'object',
  required: ['first_name', 'national_code'],
  properties: {
    first_name: { type: 'string', title: 'First name', minLength: 2 },
    national_code: { type: 'string', title: 'National code', pattern: '^[0-9]{10}$' },
    birth_year: { type: 'integer', title: 'Birth year', minimum: 1300, maximum: 1404 },
    marital_status: { type: 'string', title: 'Marital status', enum: ['single', 'married'] },
  },
});

const applicantUiSchema = () => ({
  'ui:order': ['first_name', 'national_code', 'birth_year', 'marital_status'],
  marital_status: { 'ui:widget': 'radio' },
  national_code: { 'ui:help': 'Ten digits, on your national card' },
});

async function decision() {
  const m = spiffarena('spiff_decision');
  const p = m.process('spiff_decision', { name: 'Discount by decision table' });
  p.node('bpmn:StartEvent', 'start');
  p.node('bpmn:BusinessRuleTask', 'find_discount', { name: 'Find the discount' }, [
    spiffText(m, 'CalledDecisionId', 'discount'),
  ]);
  p.node('bpmn:EndEvent', 'end');
  p.chain('start', 'find_discount', 'end');
  return m.toXML();
}

const discountTable = () => decisionTable('spiff_discount', {
  id: 'discount', name: 'Discount', hitPolicy: 'FIRST',
  inputs: [['Age', 'age', 'integer'], ['Veteran', 'veteran', 'boolean']],
  outputs: [['Discount percent', 'discount_percent', 'integer']],
  rules: [
    [['', 'True'], ['50']],
    [['>= 65', ''], ['30']],
    [['', ''], ['0']],
  ],
}, { exporter: SPIFF_TEMPLATE[0], exporterVersion: SPIFF_TEMPLATE[1] });

async function messageCorrelation() {
  const m = spiffarena('spiff_message_correlation');
  const request = m.root('bpmn:Message', { id: 'request_inquiry', name: 'Request inquiry' });
  request.extensionElements = m.create('bpmn:ExtensionElements', {
    values: [spiffText(m, 'MessagePayload', '{"application_id": application_id, "national_code": national_code}')],
  });
  const answer = m.root('bpmn:Message', { id: 'inquiry_answer', name: 'Inquiry answer' });
  answer.extensionElements = m.create('bpmn:ExtensionElements', {
    values: [spiffText(m, 'MessageVariable', 'inquiry')],
  });
  const property = m.root('bpmn:CorrelationProperty', {
    id: 'application_id', name: 'Application id',
    correlationPropertyRetrievalExpression: [request, answer].map((message) => m.create(
      'bpmn:CorrelationPropertyRetrievalExpression', {
        messageRef: message, messagePath: m.expression('application_id'),
      })),
  });
  const p = m.process('spiff_message_correlation', { name: 'Ask another agency and wait for the answer' });
  p.node('bpmn:StartEvent', 'start');
  p.node('bpmn:SendTask', 'send_inquiry', { name: 'Send the inquiry', messageRef: request });
  p.node('bpmn:ReceiveTask', 'await_answer', { name: 'Wait for the answer', messageRef: answer });
  p.node('bpmn:EndEvent', 'end');
  p.chain('start', 'send_inquiry', 'await_answer', 'end');
  m.pool('inquiry_collaboration', 'agency', 'Agency', {
    correlationKeys: [m.create('bpmn:CorrelationKey', { name: 'application', correlationPropertyRef: [property] })],
  });
  return m.toXML();
}

async function signals() {
  const m = spiffarena('spiff_signals');
  const cancel = m.root('bpmn:Signal', { id: 'cancel_application', name: 'cancel_application' });
  const p = m.process('spiff_signals', { name: 'Cancellation by signal' });
  p.node('bpmn:StartEvent', 'start');
  p.node('bpmn:ParallelGateway', 'split');
  p.node('bpmn:ManualTask', 'decide_cancel', { name: 'Decide to cancel' });
  p.node('bpmn:IntermediateThrowEvent', 'throw_cancel', { name: 'Cancel' }).eventDefinitions = [
    m.event('bpmn:SignalEventDefinition', { signalRef: cancel })];
  p.node('bpmn:EndEvent', 'cancel_sent');
  p.node('bpmn:UserTask', 'process_application', { name: 'Process the application' });
  p.boundary('cancelled', 'process_application', { name: 'Cancelled' }).eventDefinitions = [
    m.event('bpmn:SignalEventDefinition', { signalRef: cancel })];
  p.node('bpmn:EndEvent', 'end_processed', { name: 'Processed' });
  p.node('bpmn:ScriptTask', 'record_cancel', { name: 'Record the cancellation', scriptFormat: 'python',
    script: 'cancelled_by_signal = True' });
  p.node('bpmn:EndEvent', 'end_cancelled', { name: 'Cancelled' });
  p.chain('start', 'split', 'decide_cancel', 'throw_cancel', 'cancel_sent');
  p.flow('split', 'process_application');
  p.flow('process_application', 'end_processed');
  p.flow('cancelled', 'record_cancel');
  p.flow('record_cancel', 'end_cancelled');
  return m.toXML();
}

async function multiInstance() {
  const m = spiffarena('spiff_multi_instance');
  const p = m.process('spiff_multi_instance', { name: 'Check every child' });
  p.node('bpmn:StartEvent', 'start');
  const check = p.node('bpmn:ScriptTask', 'check_child', { name: 'Is the child an adult?', scriptFormat: 'python',
    script: 'adult = child["age"] >= 18' });
  check.loopCharacteristics = m.create('bpmn:MultiInstanceLoopCharacteristics', {
    isSequential: true,
    loopDataInputRef: m.create('bpmn:DataInput', { id: 'children' }),
    loopDataOutputRef: m.create('bpmn:DataOutput', { id: 'adults' }),
    inputDataItem: m.create('bpmn:DataInput', { id: 'child', name: 'child' }),
    outputDataItem: m.create('bpmn:DataOutput', { id: 'adult', name: 'adult' }),
  });
  p.node('bpmn:EndEvent', 'end');
  p.chain('start', 'check_child', 'end');
  return m.toXML();
}

export default {
  [`${DIR}/script_tasks.bpmn`]: scriptTasks,
  [`${DIR}/service_operator.bpmn`]: serviceTasks,
  [`${DIR}/json_schema_form.bpmn`]: jsonSchemaForm,
  [`${DIR}/applicant-schema.json`]: applicantSchema,
  [`${DIR}/applicant-uischema.json`]: applicantUiSchema,
  [`${DIR}/decision.bpmn`]: decision,
  [`${DIR}/discount.dmn`]: discountTable,
  [`${DIR}/message_correlation.bpmn`]: messageCorrelation,
  [`${DIR}/signals.bpmn`]: signals,
  [`${DIR}/multi_instance.bpmn`]: multiInstance,
};
