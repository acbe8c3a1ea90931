import { failureOf, timedCall } from '../../lambda/delivery/aws-call';

describe('one AWS call as a delivery attempt', () => {
  it('names a network error by its code, not its message', () => {
    const err = Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443 while sending {"patient":"x"}'), { code: 'ECONNREFUSED', $metadata: { attempts: 1 } });

    expect(failureOf(err, false)).toEqual({ errorClass: 'ECONNREFUSED' });
  });

  it("names a service error by its class, with the answer's status and the wait it asked for", () => {
    const err = Object.assign(new Error('Rate exceeded for {"patient":"x"}'), { name: 'TooManyRequestsException', $metadata: { httpStatusCode: 429 }, retryAfterSeconds: '3' });

    expect(failureOf(err, false)).toEqual({ errorClass: 'TooManyRequestsException', statusCode: 429, retryAfterSeconds: 3 });
  });

  it('calls an aborted call a timeout, and a Retry-After that is not a number nothing', () => {
    const err = Object.assign(new Error('aborted'), { name: 'AbortError', retryAfterSeconds: 'soon' });

    expect(failureOf(err, true)).toEqual({ errorClass: 'timeout' });
  });

  it('times the call with the clock it is given and never throws', async () => {
    let t = 0;
    const now = (): number => (t += 40);

    const ok = await timedCall(async () => 'done', 1000, now);
    const failed = await timedCall(async () => Promise.reject(new TypeError('boom')), 1000, now);

    expect(ok).toEqual({ ok: true, output: 'done', latencyMs: 40 });
    expect(failed).toEqual({ ok: false, error: { errorClass: 'TypeError' }, latencyMs: 40 });
  });

  it('aborts the call when the attempt times out', async () => {
    const outcome = await timedCall(
      (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' })))),
      20,
    );

    expect(outcome).toMatchObject({ ok: false, error: { errorClass: 'timeout' } });
  });
});
