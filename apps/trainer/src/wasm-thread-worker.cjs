'use strict';
/*
 * Entry of every wasm pthread worker in Node (tfjs issue #3830, github.com/tensorflow/tfjs/issues/3830: the wasm backend turns
 * threads off in Node). It runs tfjs-backend-wasm's own Emscripten worker script, changing one
 * thing: the main thread sends the Emscripten factory as a Blob, which Node's importScripts shim
 * cannot read, so the 'load' message is pointed at the same factory's file instead.
 */
const { parentPort } = require('node:worker_threads');

const FACTORY =
  require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js');
const {
  wasmWorkerContents,
} = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js');

const on = parentPort.on.bind(parentPort);
parentPort.on = (event, listener) =>
  event === 'message'
    ? on(event, (data) => {
        if (data && data.cmd === 'load') data.urlOrBlob = FACTORY;
        listener(data);
      })
    : on(event, listener);

// The script is one line whose "\n" escapes became newlines inside the package's template
// literal; tfjs-backend-wasm's browser path re-escapes them the same way.
new Function('require', '__filename', wasmWorkerContents.replace(/\n/g, '\\n'))(
  require,
  __filename,
);
