import {
  AuthorizationErrorException,
  InternalErrorException,
  InvalidParameterException,
  NotFoundException,
  ThrottledException,
} from '@aws-sdk/client-sns'
import { describe, expect, it } from 'vitest'
import { classifySnsError } from './errors.js'

const ARN = 'arn:aws:sns:us-east-1:123456789012:alerts'
const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } })

describe('classifySnsError', () => {
  it('rejects what SNS refuses for good, naming the topic and the error', () => {
    const notFound = classifySnsError(
      new NotFoundException({ message: 'Topic does not exist', ...meta(404) }),
      ARN,
    )
    expect(notFound.status).toBe('rejected')
    expect(notFound).toMatchObject({ error: expect.stringContaining(ARN) })
    expect(notFound).toMatchObject({
      error: expect.stringContaining('NotFoundException: Topic does not exist'),
    })
    expect(notFound).toMatchObject({ error: expect.stringContaining('does the topic exist') })
    const auth = new AuthorizationErrorException({ message: 'not authorized', ...meta(403) })
    expect(classifySnsError(auth, ARN).status).toBe('rejected')
    const invalid = new InvalidParameterException({ message: 'Invalid parameter: Subject', ...meta(400) })
    expect(classifySnsError(invalid, ARN).status).toBe('rejected')
  })

  it('retries throttling and SNS server errors', () => {
    const throttled = new ThrottledException({ message: 'Rate exceeded', ...meta(400) })
    expect(classifySnsError(throttled, ARN).status).toBe('retry')
    const internal = new InternalErrorException({ message: 'oops', ...meta(500) })
    expect(classifySnsError(internal, ARN).status).toBe('retry')
    const unknown5xx = Object.assign(new Error('Bad Gateway'), { name: 'Unknown', ...meta(502) })
    expect(classifySnsError(unknown5xx, ARN).status).toBe('retry')
  })

  it('retries network errors and timeouts, which have no HTTP status', () => {
    const refused = Object.assign(new AggregateError([new Error('connect ECONNREFUSED 127.0.0.1:9')], ''), {
      code: 'ECONNREFUSED',
    })
    const result = classifySnsError(refused, ARN)
    expect(result.status).toBe('retry')
    expect(result).toMatchObject({ error: expect.stringContaining('connect ECONNREFUSED 127.0.0.1:9') })
    const timeout = Object.assign(new Error('The operation was aborted due to timeout'), {
      name: 'TimeoutError',
    })
    expect(classifySnsError(timeout, ARN).status).toBe('retry')
  })
})
