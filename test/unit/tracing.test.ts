// When traces leave the process: only with an OTLP endpoint, and never when switched off.
import { tracesRequested } from '../../src/telemetry/tracing';

test('traces are exported only to a configured OTLP endpoint', () => {
  expect(tracesRequested({})).toBe(false);
  expect(tracesRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
  expect(tracesRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toBe(true);
  expect(tracesRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_EXPORTER: 'none' })).toBe(
    false,
  );
  expect(tracesRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' })).toBe(
    false,
  );
});
