import { PageResult } from "@grantline/contracts";
import { exitOnConfigError, loadMapperConfig } from "@grantline/config";
import { mapPage, splitBatch } from "@grantline/model";
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
      split: (batch) => splitBatch(batch, config.MAX_BATCH_ROWS),
      publisher: {
        publish: async (batch, lane) => {
          const subject =
            lane === "chain" ? subjects.chainBatch(batch.sourceId) : subjects.batch(batch.sourceId);
          await publishJson(js, subject, batch, {
            msgID: batch.part
              ? `batch:${batch.taskId}:p${batch.part.index}of${batch.part.count}`
              : `batch:${batch.taskId}`,
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
