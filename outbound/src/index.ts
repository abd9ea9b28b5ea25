export { classifyAddress, addressRefusal, type AddressRefusal } from './address';
export {
  checkHostName,
  checkOutboundUrl,
  connectionRefusal,
  guardedConnect,
  guardedLookup,
  literalRefusal,
  strictOutbound,
  type OutboundPolicy,
} from './guard';
export { guardedAxiosConfig, guardedDispatcher, guardedSmtpSocket } from './clients';
export {
  describeRefusal,
  findRefusal,
  networkErrorCode,
  OutboundRefused,
  type OutboundRefusalReason,
} from './refusal';
