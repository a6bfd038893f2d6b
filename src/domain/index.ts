export * from './ids';
export * from './gates';
export * from './stages';
export * from './work-item';
export * from './limits';
export * from './overrides';
export * from './search-attributes';
export * from './activities';
