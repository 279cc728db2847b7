import { PageResult } from "@grantline/contracts";
import { exitOnConfigError, loadMapperConfig } from "@grantline/config";
import { mapPage } from "@grantline/model";
import { publishJson, runService, startStage } from "@grantline/nats";
import { createMapHandler } from "./map-handler.ts";

const config = exitOnConfigError("mapper", () => loadMapperConfig(process.env));
runService("mapper", config, async ({ logger, subjects, metrics, js, jsm, openBlobs, serve }) => {
  const blobs = await openBlobs();
  const consumer = await startStage({
    js,
    jsm,
    subjects,
    stage: "mapper",
    stream: subjects.streams.pageResults,
    filterSubject: subjects.all.pageResults,
    durable: "mapper",
    schema: PageResult,
    handler: createMapHandler({
      map: mapPage,
      publisher: {
        publish: async (batch) => {
          await publishJson(js, subjects.batch(batch.sourceId), batch, {
            msgID: `batch:${batch.taskId}`,
            blobs,
          });
        },
      },
    }),
    settings: config,
    blobs,
    logger,
    observe: (outcome, seconds) => metrics.recordMessage("mapper", outcome, seconds),
  });

  await serve({ stop: [{ name: "consumer", run: () => consumer.stop(config.SHUTDOWN_GRACE_MS) }] });
});
