// Runs an exported ViT-MoE ONNX model in onnxruntime (npm onnxruntime-node)
// for the parity test and the latency benchmark.
//
//   node run_onnxruntime.js --ort=DIR --model=M.onnx --input=X.f32
//       --shape=B,C,H,W --output=Y.f32 [--threads=T] [--time_runs=N]
//
// X.f32 holds B*C*H*W raw little-endian float32 values (normalised images);
// Y.f32 receives the logits as raw float32. With --time_runs=N the session
// instead runs N more times after one warm-up run and writes the seconds of
// each run (float64) to Y. Exit status 2 with one "error: ..." line on bad
// input.
'use strict';
const fs = require('fs');

function parseArgs(argv) {
  const args = {};
  for (const arg of argv) {
    const m = /^--([a-z_]+)=(.*)$/.exec(arg);
    if (!m) throw new Error(`unexpected argument ${arg}`);
    args[m[1]] = m[2];
  }
  for (const key of ['ort', 'model', 'input', 'shape', 'output']) {
    if (!(key in args)) throw new Error(`missing --${key}`);
  }
  return args;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const ort = require(args.ort);
  const shape = args.shape.split(',').map(Number);
  const bytes = fs.readFileSync(args.input);
  const count = shape.reduce((a, b) => a * b, 1);
  if (bytes.length !== count * 4) {
    throw new Error(`${args.input} has ${bytes.length} bytes, shape ` +
                    `${args.shape} needs ${count * 4}`);
  }
  const data = new Float32Array(count);
  Buffer.from(data.buffer).set(bytes);
  const options = {};
  if (args.threads) options.intraOpNumThreads = Number(args.threads);
  const session = await ort.InferenceSession.create(args.model, options);
  const feeds = {[session.inputNames[0]]: new ort.Tensor('float32', data, shape)};
  const outputName = session.outputNames[0];

  if (args.time_runs) {
    await session.run(feeds);
    const seconds = new Float64Array(Number(args.time_runs));
    for (let i = 0; i < seconds.length; ++i) {
      const start = process.hrtime.bigint();
      await session.run(feeds);
      seconds[i] = Number(process.hrtime.bigint() - start) / 1e9;
    }
    fs.writeFileSync(args.output, Buffer.from(seconds.buffer));
    return;
  }
  const result = await session.run(feeds);
  const logits = result[outputName].data;
  fs.writeFileSync(args.output,
                   Buffer.from(logits.buffer, logits.byteOffset, logits.byteLength));
}

main().catch((e) => {
  console.error(`error: ${e.message.split('\n')[0]}`);
  process.exit(2);
});
