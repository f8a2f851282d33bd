// Pieces of load.mjs: waiting for the gallery to answer, and the judge game under load.
import autocannon from 'autocannon';

/** Until GET /api/models answers (at most a minute: the server is starting). */
export async function waitForGallery(base) {
  for (let i = 0; i < 120; i++) {
    try {
      if ((await fetch(`${base}/api/models`)).ok) return;
    } catch {
      // starting
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * 8 connections for 10 s, each one visitor playing rounds: a trial (POST /api/judge), then its
 * answer, real or generated at random.
 */
// `visitors`: each visitor's request headers (its cookie and forwarded address).
export function judgeRounds(base, visitors) {
  return autocannon({
    url: base,
    connections: 8,
    duration: 10,
    setupClient: (client) => {
      client.requestIterator.initialContext = {
        headers: visitors[Math.floor(Math.random() * visitors.length)],
      };
      client.requestIterator.resetContext();
      client.requestIterator.rebuildRequest();
    },
    requests: [
      {
        method: 'POST',
        setupRequest: (req, context) => ({
          ...req,
          path: '/api/judge',
          headers: {
            'content-type': 'application/json',
            ...context.headers,
          },
          body: '{}',
        }),
        onResponse: (status, body, context) => {
          context.trialId = status === 201 ? JSON.parse(body).trialId : 'none';
        },
      },
      {
        method: 'POST',
        setupRequest: (req, context) => ({
          ...req,
          path: `/api/judge/${context.trialId}`,
          headers: {
            'content-type': 'application/json',
            ...context.headers,
          },
          body: JSON.stringify({ answer: Math.random() < 0.5 ? 'real' : 'generated' }),
        }),
      },
    ],
  });
}
