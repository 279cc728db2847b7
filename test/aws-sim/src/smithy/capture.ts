// Captures the raw HTTP response of every call an AWS SDK v3 client makes, before the SDK deserializes
// it, so that tests can check the wire form (which the SDK forgives) as well as the deserialized output.
import type {
  DeserializeHandler,
  DeserializeHandlerArguments,
  HttpResponse,
  MiddlewareStack,
} from "@smithy/types";
import type { RawHttpResponse } from "./validate-shape.ts";

export interface RawCapture {
  /** The raw response of the most recent call (undefined before the first). */
  last: RawHttpResponse | undefined;
}

async function collect(body: unknown): Promise<Uint8Array> {
  if (body === undefined || body === null) return new Uint8Array();
  if (body instanceof Uint8Array) return body;
  if (typeof body === "string") return new TextEncoder().encode(body);
  const chunks: Uint8Array[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
    chunks.push(typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk);
  }
  return Buffer.concat(chunks);
}

/** Adds a capturing middleware to a client's stack; returns the capture it fills. */
export function captureRawResponses<I extends object, O extends object>(
  stack: MiddlewareStack<I, O>,
): RawCapture {
  const capture: RawCapture = { last: undefined };
  stack.add(
    (next: DeserializeHandler<I, O>) => async (args: DeserializeHandlerArguments<I>) => {
      const result = await next(args);
      const response = result.response as HttpResponse;
      const bytes = await collect(response.body);
      capture.last = {
        statusCode: response.statusCode,
        headers: { ...response.headers },
        body: Buffer.from(bytes).toString("utf8"),
      };
      // Hand the SDK a fresh copy: it mutates the array it deserializes.
      response.body = new Uint8Array(bytes);
      return result;
    },
    { step: "deserialize", priority: "low", name: "glRawResponseCapture" },
  );
  return capture;
}
