export * from './bbs-client';
export * from './bbs-event';
export * from './lists';
export * from './summaries';
export * from './event-stream';
export * from './event-codec';
export * from './messages';
export { SseParser, type SseFrame } from './sse-parser';
export { HttpBbsClient, type HttpBbsClientOptions } from './http-bbs-client';
