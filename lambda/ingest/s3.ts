/**
 * The S3 pieces hookgate uses, and nothing else of `@aws-sdk/client-s3`. Only bodies over the
 * SQS limit need them, so message.ts imports this module dynamically: in a bundle its evaluation
 * waits for the first large body, and a static import of these names (rather than the whole
 * namespace) lets the bundler leave the S3 commands hookgate never sends out.
 */
export { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
