import { createLambdaHandler } from './lambda-handler';
import { handlers } from './routes';

/**
 * The processor Lambda entry point on AWS, with this repository's handler table
 * (lambda/processor/routes.ts). A team's own table is bundled with {@link createLambdaHandler}
 * the same way (the Hookgate construct's `processorEntry`).
 */
export const handler = createLambdaHandler(handlers);
