import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';

/** What the filter uses of the platform's request and response (Express by default). */
interface HttpRequest {
  method: string;
  url: string;
}
interface HttpResponse {
  status(code: number): { json(body: unknown): void };
}

/**
 * Answers every error as JSON. HTTP errors (400 with the validation messages, 401, 404) keep
 * their status and message; anything unexpected is logged with its stack and answered 500
 * with a generic message, so no internals reach the client.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger(AllExceptionsFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const response = http.getResponse<HttpResponse>();
    if (exception instanceof HttpException) {
      const body = exception.getResponse();
      response
        .status(exception.getStatus())
        .json(
          typeof body === 'string' ? { statusCode: exception.getStatus(), message: body } : body,
        );
      return;
    }
    const request = http.getRequest<HttpRequest>();
    this.logger.error({
      msg: 'unexpected error answering a request',
      method: request.method,
      path: request.url.split('?')[0],
      err: exception,
    });
    response.status(HttpStatus.INTERNAL_SERVER_ERROR).json({
      statusCode: HttpStatus.INTERNAL_SERVER_ERROR,
      message: 'Internal server error',
    });
  }
}
