'use client';

// Every page view asks for a visitor identity up front, so that by the time someone votes or
// publishes it is old enough to count (see api-client.ts).
import { useEffect } from 'react';

import { ensureVisitor } from './api-client';

export function VisitorBeacon() {
  useEffect(() => {
    void ensureVisitor();
  }, []);
  return null;
}
