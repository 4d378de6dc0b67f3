// Camunda 8 models, as Camunda Modeler 5 writes them for "Camunda 8.5" (Zeebe).

import {
  C8_PLATFORM, CAMUNDA_MODELER, camunda8, camundaForm, decisionTable, ioMapping, taskDefinition, taskHeaders,
} from '../dialects.mjs';

const DIR = 'camunda8';

async function registryLookup() {
  const m = camunda8('c8_registry_lookup');
  const p = m.process('c8_registry_lookup', { name: 'Registry lookup (job workers)' });
  p.node('bpmn:StartEvent', 'start');
  p.node('bpmn:ServiceTask', 'fetch_person', { name: 'Fetch the person from the civil registry' }, [
    taskDefinition(m, 'civil_registry/person_by_national_code'),
    ioMapping(m, { national_code: '=national_code' }),
    taskHeaders(m, { resultVariable: 'person' }),
  ]);
  p.node('bpmn:ExclusiveGateway', 'status_gw', { name: 'Status?' });
  p.node('bpmn:EndEvent', 'end_ok', { name: 'Registered' });
  p.node('bpmn:EndEvent', 'end_other', { name: 'Sent to a clerk' });
  p.chain('start', 'fetch_person', 'status_gw');
  p.flow('status_gw', 'end_ok', { name: 'ok', condition: '=status = "ok"' });
  p.flow('status_gw', 'end_other', { isDefault: true });
  return m.toXML();
}

const PERMIT_FORM = [
  { label: 'Full name', type: 'textfield', key: 'full_name', validate: { required: true, minLength: 3 } },
  { label: 'Amount (rial)', type: 'number', key: 'amount', validate: { required: true, min: 0 } },
  { label: 'Purpose', type: 'select', key: 'purpose',
    values: [{ label: 'Housing', value: 'housing' }, { label: 'Business', value: 'business' }] },
  { label: 'I accept the terms', type: 'checkbox', key: 'accepted', validate: { required: true } },
];

async function formLinked() {
  const m = camunda8('c8_form_linked');
  const p = m.process('c8_form_linked', { name: 'Loan request with a linked form' });
  p.node('bpmn:StartEvent', 'start');
  p.node('bpmn:UserTask', 'request', { name: 'Request the loan' }, [
    m.create('zeebe:UserTask'),
    m.create('zeebe:FormDefinition', { formId: 'permit-application' }),
    m.create('zeebe:AssignmentDefinition', { assignee: '=initiator', candidateGroups: 'citizens' }),
  ]);
  p.node('bpmn:ExclusiveGateway', 'amount_gw', { name: 'Large amount?' });
  p.node('bpmn:UserTask', 'approve', { name: 'Approve the loan' }, [
    m.create('zeebe:UserTask'),
    m.create('zeebe:AssignmentDefinition', { candidateGroups: 'loan_officers' }),
  ]);
  p.node('bpmn:EndEvent', 'end_approved', { name: 'Checked by an officer' });
  p.node('bpmn:EndEvent', 'end_auto', { name: 'Granted' });
  p.chain('start', 'request', 'amount_gw');
  p.flow('amount_gw', 'approve', { name: 'over 1000', condition: '=amount > 1000' });
  p.flow('amount_gw', 'end_auto', { isDefault: true });
  p.flow('approve', 'end_approved');
  return m.toXML();
}

const permitFormFile = () => camundaForm('c8_permit_form', 'permit-application', PERMIT_FORM);

async function formEmbedded() {
  const m = camunda8('c8_form_embedded');
  const body = JSON.stringify(camundaForm('c8_embedded_form', 'contact-details', [
    { label: 'Mobile', type: 'textfield', key: 'mobile', validate: { required: true, pattern: '^09[0-9]{9}$' } },
    { label: 'Email', type: 'textfield', key: 'email', validate: { validationType: 'email' } },
  ]));
  const formKey = m.id('UserTaskForm', 'contact');
  const p = m.process('c8_form_embedded', { name: 'Contact details with an embedded form' }, [
    m.create('zeebe:UserTaskForm', { id: formKey, body }),
  ]);
  p.node('bpmn:StartEvent', 'start');
  p.node('bpmn:UserTask', 'contact', { name: 'Give your contact details' }, [
    m.create('zeebe:FormDefinition', { formKey: `camunda-forms:bpmn:${formKey}` }),
  ]);
  p.node('bpmn:EndEvent', 'end');
  p.chain('start', 'contact', 'end');
  return m.toXML();
}

async function feelConditions() {
  const m = camunda8('c8_feel_conditions');
  const p = m.process('c8_feel_conditions', { name: 'Routing by FEEL conditions' });
  p.node('bpmn:StartEvent', 'start');
  p.node('bpmn:ExclusiveGateway', 'amount_gw', { name: 'Amount?' });
  p.node('bpmn:ExclusiveGateway', 'urgent_gw', { name: 'Urgent?' });
  p.node('bpmn:ExclusiveGateway', 'range_gw', { name: 'Priority in range?' });
  p.node('bpmn:ExclusiveGateway', 'status_gw', { name: 'Status?' });
  p.node('bpmn:EndEvent', 'end_large', { name: 'Board' });
  p.node('bpmn:EndEvent', 'end_normal', { name: 'Normal queue' });
  p.node('bpmn:EndEvent', 'end_out_of_range', { name: 'Priority invalid' });
  p.node('bpmn:EndEvent', 'end_ok', { name: 'Urgent and ok' });
  p.node('bpmn:EndEvent', 'end_not_ok', { name: 'Urgent, not ok' });
  p.chain('start', 'amount_gw');
  p.flow('amount_gw', 'end_large', { condition: '=amount > 1000' });
  p.flow('amount_gw', 'urgent_gw', { isDefault: true });
  p.flow('urgent_gw', 'range_gw', { condition: '=list contains(tags, "urgent")' });
  p.flow('urgent_gw', 'end_normal', { isDefault: true });
  p.flow('range_gw', 'status_gw', { condition: '=x in [1..10]' });
  p.flow('range_gw', 'end_out_of_range', { isDefault: true });
  p.flow('status_gw', 'end_ok', { condition: '=status = "ok"' });
  p.flow('status_gw', 'end_not_ok', { isDefault: true });
  return m.toXML();
}

async function callParent() {
  const m = camunda8('c8_call_parent');
  const p = m.process('c8_call_parent', { name: 'Parent calling the payment process' });
  p.node('bpmn:StartEvent', 'start');
  p.node('bpmn:CallActivity', 'call_payment', { name: 'Take the payment' }, [
    m.create('zeebe:CalledElement', { processId: 'c8_payment_child' }),
  ]);
  p.node('bpmn:EndEvent', 'end');
  p.chain('start', 'call_payment', 'end');
  return m.toXML();
}

async function callChild() {
  const m = camunda8('c8_call_child');
  const p = m.process('c8_payment_child', { name: 'Payment' });
  p.node('bpmn:StartEvent', 'start');
  p.node('bpmn:UserTask', 'confirm_payment', { name: 'Confirm the payment' }, [m.create('zeebe:UserTask')]);
  p.node('bpmn:EndEvent', 'end');
  p.chain('start', 'confirm_payment', 'end');
  return m.toXML();
}

async function decision() {
  const m = camunda8('c8_decision');
  const p = m.process('c8_decision', { name: 'Eligibility by decision table' });
  p.node('bpmn:StartEvent', 'start');
  p.node('bpmn:BusinessRuleTask', 'check_eligibility', { name: 'Check eligibility' }, [
    m.create('zeebe:CalledDecision', { decisionId: 'eligibility', resultVariable: 'eligibility' }),
  ]);
  p.node('bpmn:ExclusiveGateway', 'eligible_gw', { name: 'Eligible?' });
  p.node('bpmn:EndEvent', 'end_eligible', { name: 'Eligible' });
  p.node('bpmn:EndEvent', 'end_not_eligible', { name: 'Not eligible' });
  p.chain('start', 'check_eligibility', 'eligible_gw');
  p.flow('eligible_gw', 'end_eligible', { condition: '=eligibility' });
  p.flow('eligible_gw', 'end_not_eligible', { isDefault: true });
  return m.toXML();
}

const eligibilityTable = () => decisionTable('c8_eligibility', {
  id: 'eligibility', name: 'Eligibility', hitPolicy: 'FIRST',
  inputs: [['Age', 'age', 'number'], ['Resident', 'resident', 'boolean']],
  outputs: [['Eligible', 'eligible', 'boolean']],
  rules: [
    [['>= 18', 'true'], ['true']],
    [['', ''], ['false']],
  ],
}, { exporter: 'Camunda Modeler', exporterVersion: CAMUNDA_MODELER, platform: C8_PLATFORM });

async function messageCatch() {
  const m = camunda8('c8_message_catch');
  const message = m.root('bpmn:Message', { id: m.id('Message', 'paid'), name: 'order_paid' });
  message.extensionElements = m.create('bpmn:ExtensionElements', {
    values: [m.create('zeebe:Subscription', { correlationKey: '=orderId' })],
  });
  const p = m.process('c8_message_catch', { name: 'Wait for the payment' });
  p.node('bpmn:StartEvent', 'start');
  p.node('bpmn:IntermediateCatchEvent', 'order_paid', { name: 'Order paid' }).eventDefinitions = [
    m.event('bpmn:MessageEventDefinition', { messageRef: message })];
  p.node('bpmn:EndEvent', 'end', { name: 'Paid' });
  p.chain('start', 'order_paid', 'end');
  return m.toXML();
}

async function messageStart() {
  const m = camunda8('c8_message_start');
  const message = m.root('bpmn:Message', { id: m.id('Message', 'submitted'), name: 'application_submitted' });
  const p = m.process('c8_message_start', { name: 'Started by a message' });
  p.node('bpmn:StartEvent', 'submitted', { name: 'Application submitted' }).eventDefinitions = [
    m.event('bpmn:MessageEventDefinition', { messageRef: message })];
  p.node('bpmn:UserTask', 'register', { name: 'Register the application' }, [m.create('zeebe:UserTask')]);
  p.node('bpmn:EndEvent', 'end');
  p.chain('submitted', 'register', 'end');
  return m.toXML();
}

async function multiInstance() {
  const m = camunda8('c8_multi_instance');
  const p = m.process('c8_multi_instance', { name: 'Check every document in parallel' });
  p.node('bpmn:StartEvent', 'start');
  const check = p.node('bpmn:UserTask', 'check_document', { name: 'Check the document' }, [
    m.create('zeebe:UserTask'),
  ]);
  check.loopCharacteristics = m.create('bpmn:MultiInstanceLoopCharacteristics', {
    extensionElements: m.create('bpmn:ExtensionElements', {
      values: [m.create('zeebe:LoopCharacteristics', {
        inputCollection: '=documents', inputElement: 'document',
        outputCollection: 'results', outputElement: '=checked',
      })],
    }),
  });
  p.node('bpmn:EndEvent', 'end');
  p.chain('start', 'check_document', 'end');
  return m.toXML();
}

async function reminderTimer() {
  const m = camunda8('c8_reminder_timer');
  const p = m.process('c8_reminder_timer', { name: 'Review with reminders' });
  p.node('bpmn:StartEvent', 'start');
  p.node('bpmn:UserTask', 'review', { name: 'Review the request' }, [
    m.create('zeebe:UserTask'),
    m.create('zeebe:AssignmentDefinition', { candidateGroups: 'clerks' }),
  ]);
  p.boundary('every_10_minutes', 'review', { name: 'Every 10 minutes, 3 times', cancelActivity: false })
    .eventDefinitions = [m.event('bpmn:TimerEventDefinition', { timeCycle: m.expression('R3/PT10M') })];
  p.node('bpmn:ServiceTask', 'remind', { name: 'Send a reminder' }, [
    taskDefinition(m, 'sms/send'),
    ioMapping(m, { to: '=clerk_mobile', text: 'A request is waiting for your review' }),
    taskHeaders(m, { resultVariable: 'reminder' }),
  ]);
  p.node('bpmn:EndEvent', 'end', { name: 'Reviewed' });
  p.node('bpmn:EndEvent', 'end_reminded', { name: 'Reminder sent' });
  p.chain('start', 'review', 'end');
  p.flow('every_10_minutes', 'remind');
  p.flow('remind', 'end_reminded');
  return m.toXML();
}

async function signals() {
  const m = camunda8('c8_signals');
  const signal = m.root('bpmn:Signal', { id: m.id('Signal', 'ready'), name: 'documents_ready' });
  const p = m.process('c8_signals', { name: 'Wait for a signal from another branch' });
  p.node('bpmn:StartEvent', 'start');
  p.node('bpmn:ParallelGateway', 'split');
  p.node('bpmn:UserTask', 'prepare', { name: 'Prepare the documents' }, [m.create('zeebe:UserTask')]);
  p.node('bpmn:IntermediateThrowEvent', 'announce', { name: 'Documents ready' }).eventDefinitions = [
    m.event('bpmn:SignalEventDefinition', { signalRef: signal })];
  p.node('bpmn:IntermediateCatchEvent', 'wait_ready', { name: 'Documents ready' }).eventDefinitions = [
    m.event('bpmn:SignalEventDefinition', { signalRef: signal })];
  p.node('bpmn:ParallelGateway', 'join');
  p.node('bpmn:EndEvent', 'end');
  p.chain('start', 'split', 'prepare', 'announce', 'join', 'end');
  p.flow('split', 'wait_ready');
  p.flow('wait_ready', 'join');
  return m.toXML();
}

async function escalation() {
  const m = camunda8('c8_escalation');
  const late = m.root('bpmn:Escalation', { id: m.id('Escalation', 'late'), name: 'Late', escalationCode: 'LATE' });
  const p = m.process('c8_escalation', { name: 'Escalate a late check' });
  p.node('bpmn:StartEvent', 'start');
  const sub = p.sub('check', { name: 'Check the file' });
  sub.node('bpmn:StartEvent', 'check_start');
  sub.node('bpmn:UserTask', 'check_docs', { name: 'Check the documents' }, [m.create('zeebe:UserTask')]);
  sub.node('bpmn:ExclusiveGateway', 'late_gw', { name: 'Late?' });
  sub.node('bpmn:EndEvent', 'escalate_late', { name: 'Late' }).eventDefinitions = [
    m.event('bpmn:EscalationEventDefinition', { escalationRef: late })];
  sub.node('bpmn:EndEvent', 'check_done', { name: 'Checked' });
  sub.chain('check_start', 'check_docs', 'late_gw');
  sub.flow('late_gw', 'escalate_late', { condition: '=late' });
  sub.flow('late_gw', 'check_done', { isDefault: true });
  p.boundary('on_late', 'check', { name: 'Late' }).eventDefinitions = [
    m.event('bpmn:EscalationEventDefinition', { escalationRef: late })];
  p.node('bpmn:UserTask', 'inform_supervisor', { name: 'Inform the supervisor' }, [m.create('zeebe:UserTask')]);
  p.node('bpmn:EndEvent', 'end', { name: 'Done' });
  p.node('bpmn:EndEvent', 'end_late', { name: 'Handled late' });
  p.chain('start', 'check', 'end');
  p.flow('on_late', 'inform_supervisor');
  p.flow('inform_supervisor', 'end_late');
  return m.toXML();
}

export default {
  [`${DIR}/registry_lookup.bpmn`]: registryLookup,
  [`${DIR}/form_linked.bpmn`]: formLinked,
  [`${DIR}/permit-application.form`]: permitFormFile,
  [`${DIR}/form_embedded.bpmn`]: formEmbedded,
  [`${DIR}/feel_conditions.bpmn`]: feelConditions,
  [`${DIR}/call_parent.bpmn`]: callParent,
  [`${DIR}/call_child.bpmn`]: callChild,
  [`${DIR}/decision.bpmn`]: decision,
  [`${DIR}/eligibility.dmn`]: eligibilityTable,
  [`${DIR}/message_catch.bpmn`]: messageCatch,
  [`${DIR}/message_start.bpmn`]: messageStart,
  [`${DIR}/multi_instance.bpmn`]: multiInstance,
  [`${DIR}/reminder_timer.bpmn`]: reminderTimer,
  [`${DIR}/signals.bpmn`]: signals,
  [`${DIR}/escalation.bpmn`]: escalation,
};
