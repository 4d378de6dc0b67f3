// Camunda 7 models, as Camunda Modeler 5 writes them for "Camunda Platform 7.21".

import {
  C7_PLATFORM, CAMUNDA_MODELER, camunda7, camundaProperties, decisionTable, formData, inputOutput,
} from '../dialects.mjs';

const DIR = 'camunda7';

async function permitForm() {
  const m = camunda7('c7_permit_form');
  const p = m.process('c7_permit_form', { name: 'Building permit application', historyTimeToLive: '180' });
  p.node('bpmn:StartEvent', 'start', { name: 'Application wanted' });
  p.node('bpmn:UserTask', 'apply', {
    name: 'Fill in the application', assignee: '${initiator}', candidateGroups: 'citizens',
  }, [formData(m, [
    { id: 'full_name', label: 'Full name', type: 'string',
      constraints: { required: true, minlength: 3, maxlength: 80 } },
    { id: 'national_code', label: 'National code', type: 'string',
      constraints: { required: true, pattern: '^[0-9]{10}$' }, properties: { format: 'ir-national-code' } },
    { id: 'floors', label: 'Number of floors', type: 'long', defaultValue: '1', constraints: { min: 1, max: 20 } },
    { id: 'area', label: 'Plot area (m2)', type: 'double', constraints: { required: true, min: 10 } },
    { id: 'start_date', label: 'Planned start', type: 'date' },
    { id: 'has_architect', label: 'An architect signs the plans', type: 'boolean' },
    { id: 'use', label: 'Use of the building', type: 'enum', defaultValue: 'residential',
      constraints: { required: true },
      values: [['residential', 'Residential'], ['commercial', 'Commercial'], ['mixed', 'Mixed']] },
  ])]);
  p.node('bpmn:ExclusiveGateway', 'size_gw', { name: 'Large plot?' });
  p.node('bpmn:UserTask', 'engineer_review', { name: 'Engineer review', candidateGroups: 'municipality_engineers' },
    [formData(m, [{ id: 'approved', label: 'Approve', type: 'boolean' }])]);
  p.node('bpmn:EndEvent', 'end_reviewed', { name: 'Reviewed' });
  p.node('bpmn:EndEvent', 'end_small', { name: 'Small plot registered' });
  p.chain('start', 'apply', 'size_gw');
  p.flow('size_gw', 'engineer_review', { name: 'over 1000 m2', condition: '${area > 1000}' });
  p.flow('size_gw', 'end_small', { name: 'otherwise', isDefault: true });
  p.flow('engineer_review', 'end_reviewed');
  return m.toXML();
}

async function juelConditions() {
  const m = camunda7('c7_juel_conditions');
  const p = m.process('c7_juel_conditions', { name: 'Routing by JUEL conditions', historyTimeToLive: '180' });
  p.node('bpmn:StartEvent', 'start');
  p.node('bpmn:UserTask', 'assess', { name: 'Assess the case', candidateGroups: 'clerks' }, [formData(m, [
    { id: 'amount', label: 'Amount (rial)', type: 'long', constraints: { required: true, min: 0 } },
    { id: 'approved', label: 'Approved', type: 'boolean' },
    { id: 'notes', label: 'Notes', type: 'string' },
    { id: 'status', label: 'Status', type: 'enum', values: [['ok', 'OK'], ['hold', 'On hold']] },
    { id: 'score', label: 'Score', type: 'long', constraints: { min: 0, max: 5 } },
  ])]);
  p.node('bpmn:ExclusiveGateway', 'amount_gw', { name: 'Amount?' });
  p.node('bpmn:ExclusiveGateway', 'approved_gw', { name: 'Approved?' });
  p.node('bpmn:ExclusiveGateway', 'track_gw', { name: 'Which track?' });
  p.node('bpmn:EndEvent', 'end_large', { name: 'Sent to the board' });
  p.node('bpmn:EndEvent', 'end_rejected', { name: 'Rejected' });
  p.node('bpmn:EndEvent', 'end_fast', { name: 'Fast track' });
  p.node('bpmn:EndEvent', 'end_no_notes', { name: 'Needs notes' });
  p.node('bpmn:EndEvent', 'end_normal', { name: 'Normal track' });
  p.chain('start', 'assess', 'amount_gw');
  p.flow('amount_gw', 'end_large', { name: 'over 1000', condition: '${amount > 1000}' });
  p.flow('amount_gw', 'approved_gw', { isDefault: true });
  p.flow('approved_gw', 'track_gw', { name: 'yes', condition: '${approved}' });
  p.flow('approved_gw', 'end_rejected', { name: 'no', isDefault: true });
  p.flow('track_gw', 'end_fast', { name: 'ok and score 3+', condition: "${status == 'ok' && score ge 3}" });
  p.flow('track_gw', 'end_no_notes', { name: 'no notes', condition: '${empty notes}' });
  p.flow('track_gw', 'end_normal', { isDefault: true });
  return m.toXML();
}

async function registryLookup() {
  const m = camunda7('c7_registry_lookup');
  const p = m.process('c7_registry_lookup', { name: 'Registry lookup (external tasks)', historyTimeToLive: '180' });
  p.node('bpmn:StartEvent', 'start');
  p.node('bpmn:ServiceTask', 'fetch_person', {
    name: 'Fetch the person from the civil registry', type: 'external',
    topic: 'civil_registry/person_by_national_code', asyncBefore: true,
  }, [
    inputOutput(m, { national_code: '${national_code}' }),
    camundaProperties(m, { resultVariable: 'person' }),
  ]);
  p.node('bpmn:ServiceTask', 'fetch_address', {
    name: 'Fetch the address from the post', type: 'external', topic: 'post/address_by_postal_code',
  }, [
    inputOutput(m, { postal_code: '${person.postal_code}' }),
    camundaProperties(m, { resultVariable: 'address' }),
  ]);
  p.node('bpmn:ExclusiveGateway', 'alive_gw', { name: 'Alive?' });
  p.node('bpmn:EndEvent', 'end_found', { name: 'Person and address known' });
  p.node('bpmn:EndEvent', 'end_deceased', { name: 'Registered as deceased' });
  p.chain('start', 'fetch_person', 'alive_gw');
  p.flow('alive_gw', 'fetch_address', { name: 'alive', condition: '${person.alive}' });
  p.flow('alive_gw', 'end_deceased', { isDefault: true });
  p.flow('fetch_address', 'end_found');
  return m.toXML();
}

async function classDelegate() {
  const m = camunda7('c7_class_delegate');
  const p = m.process('c7_class_delegate', { name: 'Java delegate service task', historyTimeToLive: '180' });
  p.node('bpmn:StartEvent', 'start');
  p.node('bpmn:ServiceTask', 'notify_archive', {
    name: 'Notify the archive', class: 'ir.gov.archive.NotifyArchiveDelegate',
  });
  p.node('bpmn:EndEvent', 'end');
  p.chain('start', 'notify_archive', 'end');
  return m.toXML();
}

async function businessRule() {
  const m = camunda7('c7_business_rule');
  const p = m.process('c7_business_rule', { name: 'Permit fee by decision table', historyTimeToLive: '180' });
  p.node('bpmn:StartEvent', 'start');
  p.node('bpmn:UserTask', 'describe', { name: 'Describe the building' }, [formData(m, [
    { id: 'kind', label: 'Kind', type: 'enum', constraints: { required: true },
      values: [['building', 'Building'], ['fence', 'Fence']] },
    { id: 'area', label: 'Area (m2)', type: 'long', constraints: { required: true, min: 1 } },
  ])]);
  p.node('bpmn:BusinessRuleTask', 'compute_fee', {
    name: 'Compute the fee', decisionRef: 'permit_fee', resultVariable: 'fee', mapDecisionResult: 'singleEntry',
  });
  p.node('bpmn:EndEvent', 'end');
  p.chain('start', 'describe', 'compute_fee', 'end');
  return m.toXML();
}

function feeTable() {
  return decisionTable('c7_fee_table', {
    id: 'permit_fee', name: 'Permit fee', hitPolicy: 'UNIQUE',
    inputs: [['Kind', 'kind', 'string'], ['Area', 'area', 'integer']],
    outputs: [['Fee', 'fee', 'integer']],
    rules: [
      [['"building"', '< 100'], ['500000']],
      [['"building"', '[100..1000]'], ['2000000']],
      [['"building"', '> 1000'], ['9000000']],
      [['"fence"', ''], ['100000']],
    ],
  }, { exporter: 'Camunda Modeler', exporterVersion: CAMUNDA_MODELER, platform: C7_PLATFORM });
}

async function callParent() {
  const m = camunda7('c7_call_parent');
  const p = m.process('c7_call_parent', { name: 'Parent calling the signature process', historyTimeToLive: '180' });
  p.node('bpmn:StartEvent', 'start');
  p.node('bpmn:CallActivity', 'call_sign', { name: 'Collect the signature', calledElement: 'c7_sign_child' }, [
    m.create('camunda:In', { variables: 'all' }),
    m.create('camunda:Out', { variables: 'all' }),
  ]);
  p.node('bpmn:EndEvent', 'end');
  p.chain('start', 'call_sign', 'end');
  return m.toXML();
}

async function callChild() {
  const m = camunda7('c7_call_child');
  const p = m.process('c7_sign_child', { name: 'Signature', historyTimeToLive: '180' });
  p.node('bpmn:StartEvent', 'start');
  p.node('bpmn:UserTask', 'sign', { name: 'Sign the application' }, [formData(m, [
    { id: 'signed', label: 'I confirm the statements above', type: 'boolean', constraints: { required: true } },
  ])]);
  p.node('bpmn:EndEvent', 'end');
  p.chain('start', 'sign', 'end');
  return m.toXML();
}

async function slaTimers() {
  const m = camunda7('c7_sla_timers');
  const p = m.process('c7_sla_timers', { name: 'Review with a 48 hour deadline', historyTimeToLive: '180' });
  p.node('bpmn:StartEvent', 'start');
  p.node('bpmn:UserTask', 'review', { name: 'Review the file', candidateGroups: 'clerks' }, [formData(m, [
    { id: 'approved', label: 'Approve', type: 'boolean' },
  ])]);
  p.boundary('review_deadline', 'review', { name: '48 hours' }, []).eventDefinitions = [
    m.event('bpmn:TimerEventDefinition', { timeDuration: m.expression('PT48H') })];
  p.node('bpmn:UserTask', 'escalate', { name: 'Supervisor takes over', candidateGroups: 'supervisors' });
  p.node('bpmn:IntermediateCatchEvent', 'cooling_off', { name: 'One day to object' }).eventDefinitions = [
    m.event('bpmn:TimerEventDefinition', { timeDuration: m.expression('P1D') })];
  p.node('bpmn:EndEvent', 'end', { name: 'Decision final' });
  p.node('bpmn:EndEvent', 'end_escalated', { name: 'Escalated' });
  p.chain('start', 'review', 'cooling_off', 'end');
  p.flow('review_deadline', 'escalate');
  p.flow('escalate', 'end_escalated');
  return m.toXML();
}

async function messageCorrelation() {
  const m = camunda7('c7_payment_message');
  const message = m.root('bpmn:Message', { id: m.id('Message', 'payment'), name: 'payment_received' });
  const p = m.process('c7_payment_message', { name: 'Wait for the payment', historyTimeToLive: '180' });
  p.node('bpmn:StartEvent', 'start');
  p.node('bpmn:ServiceTask', 'request_payment', {
    name: 'Send the payment link', type: 'external', topic: 'sms/send',
  }, [
    inputOutput(m, { to: '${mobile}', text: 'Pay the permit fee with the link we sent' }),
    camundaProperties(m, { resultVariable: 'sms' }),
  ]);
  p.node('bpmn:IntermediateCatchEvent', 'payment_received', { name: 'Payment received' }).eventDefinitions = [
    m.event('bpmn:MessageEventDefinition', { messageRef: message })];
  p.node('bpmn:EndEvent', 'end', { name: 'Paid' });
  p.chain('start', 'request_payment', 'payment_received', 'end');
  return m.toXML();
}

async function multiInstance() {
  const m = camunda7('c7_multi_instance');
  const p = m.process('c7_multi_instance', { name: 'Review every document', historyTimeToLive: '180' });
  p.node('bpmn:StartEvent', 'start');
  const review = p.node('bpmn:UserTask', 'review_document', { name: 'Review ${document}' }, [formData(m, [
    { id: 'legible', label: 'The document is legible', type: 'boolean' },
  ])]);
  review.loopCharacteristics = m.create('bpmn:MultiInstanceLoopCharacteristics', {
    isSequential: true, collection: '${documents}', elementVariable: 'document',
  });
  p.node('bpmn:EndEvent', 'end');
  p.chain('start', 'review_document', 'end');
  return m.toXML();
}

async function implicitSplit() {
  const m = camunda7('c7_implicit_split');
  const p = m.process('c7_implicit_split', { name: 'Register, then notify and archive', historyTimeToLive: '180' });
  p.node('bpmn:StartEvent', 'start');
  p.node('bpmn:UserTask', 'register', { name: 'Register the application' });
  p.node('bpmn:UserTask', 'notify', { name: 'Notify the applicant' });
  p.node('bpmn:UserTask', 'archive', { name: 'Archive the papers' });
  p.node('bpmn:ParallelGateway', 'join');
  p.node('bpmn:EndEvent', 'end');
  p.chain('start', 'register');
  p.flow('register', 'notify');
  p.flow('register', 'archive');
  p.flow('notify', 'join');
  p.flow('archive', 'join');
  p.flow('join', 'end');
  return m.toXML();
}

async function conditionalFlow() {
  const m = camunda7('c7_conditional_flow');
  const p = m.process('c7_conditional_flow', { name: 'Inspection only when needed', historyTimeToLive: '180' });
  p.node('bpmn:StartEvent', 'start');
  p.node('bpmn:UserTask', 'check', { name: 'Check the plans' }, [formData(m, [
    { id: 'needs_visit', label: 'A site visit is needed', type: 'boolean' },
  ])]);
  p.node('bpmn:UserTask', 'inspect', { name: 'Visit the site' });
  p.node('bpmn:EndEvent', 'end_inspected', { name: 'Inspected' });
  p.node('bpmn:EndEvent', 'end_direct', { name: 'No visit' });
  p.chain('start', 'check');
  p.flow('check', 'inspect', { name: 'visit needed', condition: '${needs_visit}' });
  p.flow('check', 'end_direct', { isDefault: true });
  p.flow('inspect', 'end_inspected');
  return m.toXML();
}

async function javascriptScript() {
  const m = camunda7('c7_javascript');
  const p = m.process('c7_javascript', { name: 'JavaScript script task', historyTimeToLive: '180' });
  p.node('bpmn:StartEvent', 'start');
  p.node('bpmn:ScriptTask', 'compute_total', {
    name: 'Compute the total', scriptFormat: 'javascript',
    script: 'var total = execution.getVariable("price") * 1.09;\nexecution.setVariable("total", total);',
  });
  p.node('bpmn:EndEvent', 'end');
  p.chain('start', 'compute_total', 'end');
  return m.toXML();
}

async function errorBoundary() {
  const m = camunda7('c7_error_boundary');
  const error = m.root('bpmn:Error', { id: m.id('Error', 'not_found'), name: 'Person not found',
    errorCode: 'PERSON_NOT_FOUND' });
  const p = m.process('c7_error_boundary', { name: 'Registry lookup with a fallback', historyTimeToLive: '180' });
  p.node('bpmn:StartEvent', 'start');
  p.node('bpmn:ServiceTask', 'fetch_person', {
    name: 'Fetch the person', type: 'external', topic: 'civil_registry/person_by_national_code',
  }, [
    inputOutput(m, { national_code: '${national_code}' }),
    camundaProperties(m, { resultVariable: 'person' }),
  ]);
  p.boundary('not_found', 'fetch_person', { name: 'Not found' }).eventDefinitions = [
    m.event('bpmn:ErrorEventDefinition', { errorRef: error })];
  p.node('bpmn:UserTask', 'enter_manually', { name: 'Enter the person by hand' }, [formData(m, [
    { id: 'first_name', label: 'First name', type: 'string', constraints: { required: true } },
    { id: 'last_name', label: 'Last name', type: 'string', constraints: { required: true } },
  ])]);
  p.node('bpmn:EndEvent', 'end_found', { name: 'Found' });
  p.node('bpmn:EndEvent', 'end_manual', { name: 'Entered by hand' });
  p.chain('start', 'fetch_person', 'end_found');
  p.flow('not_found', 'enter_manually');
  p.flow('enter_manually', 'end_manual');
  return m.toXML();
}

export default {
  [`${DIR}/permit_form.bpmn`]: permitForm,
  [`${DIR}/juel_conditions.bpmn`]: juelConditions,
  [`${DIR}/registry_lookup.bpmn`]: registryLookup,
  [`${DIR}/class_delegate.bpmn`]: classDelegate,
  [`${DIR}/business_rule.bpmn`]: businessRule,
  [`${DIR}/permit_fee.dmn`]: feeTable,
  [`${DIR}/call_parent.bpmn`]: callParent,
  [`${DIR}/call_child.bpmn`]: callChild,
  [`${DIR}/sla_timers.bpmn`]: slaTimers,
  [`${DIR}/payment_message.bpmn`]: messageCorrelation,
  [`${DIR}/multi_instance.bpmn`]: multiInstance,
  [`${DIR}/implicit_split.bpmn`]: implicitSplit,
  [`${DIR}/conditional_flow.bpmn`]: conditionalFlow,
  [`${DIR}/javascript_script.bpmn`]: javascriptScript,
  [`${DIR}/error_boundary.bpmn`]: errorBoundary,
};
