// A contact-centre function as teams write it: the SDK's default client,
// nothing about Tollgate in the code. The tollgate layer's extension
// governs it because the function's environment sets
// AWS_ENDPOINT_URL_CONNECT=http://127.0.0.1:9787 (read by the SDK itself).
import { ConnectClient, StartOutboundVoiceContactCommand, ListQueuesCommand } from "@aws-sdk/client-connect";

const connect = new ConnectClient({});

export async function handler(event) {
  const instanceId = event.instanceId ?? process.env.CONNECT_INSTANCE_ID;
  const placed = await connect.send(new StartOutboundVoiceContactCommand({
    InstanceId: instanceId,
    ContactFlowId: event.contactFlowId ?? process.env.CONNECT_CONTACT_FLOW_ID,
    DestinationPhoneNumber: event.phoneNumber ?? "+12065550100",
  }));
  const queues = await connect.send(new ListQueuesCommand({ InstanceId: instanceId }));
  return { contactId: placed.ContactId, queues: (queues.QueueSummaryList ?? []).length };
}
